// `tunroute ospf neighbours|database|routes`: OSPF of a running daemon.
import type { Command } from 'commander';
import type { OspfJson } from '../../api/types.js';
import { ctx } from '../context.js';
import { duration, table } from '../table.js';

export function registerOspfCommands(program: Command): void {
  const ospf = program.command('ospf').description('OSPFv2: neighbours, link state database, routes');
  const get = (cmd: Command) => {
    const c = ctx(cmd);
    return { c, call: () => c.call<OspfJson>('GET', '/v1/ospf') };
  };
  ospf.command('neighbours').alias('neighbors').description('OSPF interfaces and neighbours (state, DR/BDR, BFD, last heard)').action(async (_o, cmd: Command) => {
    const { c, call } = get(cmd);
    const s = await call();
    // As `rip list` and `bfd list` say it: the type and the key sent now (never a secret).
    const auth = (a: OspfJson['interfaces'][number]['auth']) => (a.type === 'none' ? 'none' : `${a.type} ${a.sendKey === null ? '(no valid key!)' : `key ${a.sendKey}`}`);
    const ifaces = table(['PORT', 'ADDRESS', 'NETWORK', 'STATE', 'COST', 'DR', 'BDR', 'AUTH', 'HELLO/DEAD', 'NEIGHBOURS'],
      s.interfaces.map((i) => [i.port, i.address, i.network, `${i.state}${i.passive ? ' (passive)' : ''}`, i.cost, i.dr, i.bdr, auth(i.auth), `${i.helloInterval}/${i.deadInterval}`, i.neighbours]));
    // KEY: the key id the neighbour signs with (cryptographic authentication), to follow a roll-over.
    const nbrs = table(['PORT', 'ROUTER ID', 'ADDRESS', 'STATE', 'PRI', 'BFD', 'KEY', 'HEARD', 'IN STATE', 'RXMT', 'REQ'],
      s.neighbours.map((n) => [n.port, n.routerId, n.address, n.state, n.priority, n.bfd, n.authKey, `${duration(n.lastHeardMs)} ago`, duration(n.stateMs), n.retransmitQueue, n.requestQueue]));
    c.print([`OSPF router id ${s.routerId}, area 0`, '', 'Interfaces', ifaces, '', 'Neighbours', nbrs].join('\n'), { routerId: s.routerId, interfaces: s.interfaces, neighbours: s.neighbours });
  });
  ospf.command('database').description('the link state database (area 0 and AS-external)').action(async (_o, cmd: Command) => {
    const { c, call } = get(cmd);
    const s = await call();
    const rows = table(['TYPE', 'LINK STATE ID', 'ADV ROUTER', 'AGE', 'SEQUENCE', 'CHECKSUM', 'LEN', ''],
      s.database.map((e) => [e.type, e.id, e.advRouter, e.age, e.sequence, e.checksum, e.length, e.self ? 'self' : '']));
    c.print([`OSPF router id ${s.routerId}: ${s.database.length} LSAs (limit ${s.lsdbLimit})`, '', rows].join('\n'), { routerId: s.routerId, lsdbLimit: s.lsdbLimit, database: s.database });
  });
  ospf.command('routes').description('the routes SPF computed (type, cost, next hops)').action(async (_o, cmd: Command) => {
    const { c, call } = get(cmd);
    const s = await call();
    const rows = table(['PREFIX', 'TYPE', 'COST', 'NEXT HOPS', 'ADV ROUTER'],
      s.routes.map((r) => [r.prefix, r.type, r.type === 'external-2' ? `${r.cost} (${r.internalCost})` : r.cost, r.nextHops.map((h) => `${h.via ?? 'on-link'} on ${h.port}`).join(', '), r.advRouter]));
    const spf = `SPF: ${s.spf.runs} runs, last took ${s.spf.lastDurationMs} ms${s.spf.lastRunAgoMs === null ? '' : `, ${duration(s.spf.lastRunAgoMs)} ago`}`;
    c.print([`OSPF router id ${s.routerId}; ${spf}`, '', rows].join('\n'), { routerId: s.routerId, routes: s.routes, spf: s.spf });
  });
}
