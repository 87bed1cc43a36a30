// `tunroute neigh list`: the neighbours (ARP table) of each Ethernet port.
import type { Command } from 'commander';
import type { NeighbourPortJson } from '../../api/types.js';
import { parseAddress } from '../../net/addr.js';
import { ctx, parseArg } from '../context.js';
import { duration, table } from '../table.js';

export function neighbourTable(ports: NeighbourPortJson[]): string {
  if (ports.length === 0) return 'no Ethernet ports';
  const rows = ports.flatMap((p) => p.neighbours.map((n) => [
    p.port, n.address, n.mac ?? '-', n.state, `${duration(n.updatedMsAgo)} ago`, n.confirmedMsAgo === null ? 'never' : `${duration(n.confirmedMsAgo)} ago`, n.probes, n.held,
  ]));
  const drops = ports.map((p) => {
    const d = Object.entries(p.counters.drops).map(([k, v]) => `${k}=${v}`).join(' ');
    return d ? `${p.port} (${p.mac}) dropped: ${d}` : `${p.port} (${p.mac})`;
  });
  return `${table(['PORT', 'ADDRESS', 'MAC', 'STATE', 'CHANGED', 'CONFIRMED', 'PROBES', 'HELD'], rows)}\n${drops.join('\n')}`;
}

export function registerNeighbourCommands(program: Command): void {
  const neigh = program.command('neigh').description('Ethernet ports: the neighbour (ARP) table');
  neigh.command('list').description('every neighbour of every Ethernet port: address, MAC, state, packets waiting').action(async (_o, cmd: Command) => {
    const c = ctx(cmd);
    const ports = await c.call<NeighbourPortJson[]>('GET', '/v1/neighbours');
    c.print(neighbourTable(ports), ports);
  });
  neigh.command('add <port> <address> <mac>')
    .description('a configured neighbour: packets to ADDRESS on PORT go to MAC without ARP (until the daemon restarts; put it in the config to keep it)')
    .action(async (port: string, address: string, mac: string, _o, cmd: Command) => {
      parseArg('address', address, parseAddress);
      const c = ctx(cmd);
      const r = await c.call('POST', '/v1/neighbours', { port, address, mac });
      c.print(`neighbour ${address} at ${mac} on ${port}`, r);
    });
  neigh.command('del <port> <address>')
    .description('forget a configured neighbour')
    .action(async (port: string, address: string, _o, cmd: Command) => {
      parseArg('address', address, parseAddress);
      const c = ctx(cmd);
      const r = await c.call('DELETE', '/v1/neighbours', { port, address });
      c.print(`neighbour ${address} removed from ${port}`, r);
    });
}
