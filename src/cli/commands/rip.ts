// `tunroute rip list`: RIP neighbours and routes of a running daemon.
import type { Command } from 'commander';
import type { RipJson } from '../../api/types.js';
import { ctx } from '../context.js';
import { duration, table } from '../table.js';

export function registerRipCommands(program: Command): void {
  const rip = program.command('rip').description('RIPv2: neighbours and learned routes');
  rip.command('list').description('RIP neighbours (state, BFD, last heard) and the routes RIP learned (metric, age)').action(async (_o, cmd: Command) => {
    const c = ctx(cmd);
    const s = await c.call<RipJson>('GET', '/v1/rip');
    const hardening = (p: RipJson['ports'][number]) => [
      p.auth.type !== 'none' ? ` auth ${p.auth.type}${p.auth.sendKey === null ? ' (no valid key!)' : ` key ${p.auth.sendKey}`}` : '',
      p.ttlSecurity === true ? ' gtsm' : p.ttlSecurity === 'tx-only' ? ' gtsm-tx' : '',
      p.neighbours.length ? ` neighbours ${p.neighbours.join(' ')}${p.unicast ? ' (unicast)' : ''}` : '',
      p.neighbourLimitReached ? ' [maxNeighboursPerPort reached]' : '',
    ].join('');
    const ports = s.ports.map((p) => `${p.port}${p.passive ? ' (passive)' : ''}${p.state !== 'active' ? ` [${p.state}]` : ''} cost ${p.cost}${p.bfd ? ' +bfd' : ''}${hardening(p)}`).join(', ');
    const neighbours = table(['PORT', 'NEIGHBOUR', 'STATE', 'BFD', 'HEARD', 'ROUTES', 'HELD', 'REFUSED', 'BAD PKTS', 'BAD ROUTES', 'AUTH FAIL'],
      s.neighbours.map((n) => [n.port, n.address, n.state, n.bfd, `${duration(n.lastHeardMs)} ago`, n.routes, n.held,
        n.routesRefused ? `${n.routesRefused}${n.limitReached ? ' (limit)' : ''}` : 0, n.badPackets, n.badRoutes, n.authFailures]));
    const l = s.limits;
    const limits = `limits: ${l.maxRoutes} routes (${l.routesHeld} held${l.maxRoutesReached ? ', REACHED' : ''}), ${l.maxRoutesPerNeighbour} per neighbour, ${l.maxNeighboursPerPort} neighbours per port`;
    const routes = table(['PREFIX', 'METRIC', 'NEXT HOP', 'PORT', 'FROM', 'STATE', 'AGE', 'EXPIRES'],
      s.routes.map((r) => [r.prefix, r.metric, r.nextHop, r.port, r.neighbour, r.best ? `*${r.state}` : r.state, duration(r.ageMs), duration(Math.max(0, r.expiresInMs))]));
    c.print([
      `RIP on ${ports || 'no ports'}; timers update ${s.updateTime}s timeout ${s.timeoutTime}s garbage ${s.garbageTime}s`, limits,
      '', 'Neighbours', neighbours, '', 'Routes', routes,
    ].join('\n'), s);
  });
}
