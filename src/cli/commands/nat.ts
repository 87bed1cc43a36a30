// Virtual-service NAT commands: which backend serves whom, and the flows.
import type { Command } from 'commander';
import type { NatJson } from '../../api/types.js';
import { ctx } from '../context.js';
import { duration, table } from '../table.js';

export function natText(n: NatJson, withFlows: boolean): string {
  if (!n.counters) return 'no virtual services configured';
  const rows = n.services.flatMap((s) => s.backends.map((b, i) => [
    i === 0 ? s.name : '', i === 0 ? s.address : '', i === 0 ? duration(s.idleTimeoutS * 1000) : '',
    b.name, b.address, b.default ? '(everyone else)' : b.sources.join(','), b.flows, b.flowsCreated, b.packets,
  ]));
  const c = n.counters;
  const lines = [
    table(['SERVICE', 'ADDRESS', 'IDLE', 'BACKEND', 'BACKEND ADDRESS', 'SOURCES', 'FLOWS', 'CREATED', 'PACKETS'], rows),
    `${c.live} live flows of ${c.capacity}: created ${c.created}, expired ${c.expired}, evicted unanswered ${c.evictedUnanswered}, ` +
      `refused ${c.refusedFull} (table full) ${c.refusedConflict} (tuple in use) ${c.refusedClientLimit} (client over ${c.maxFlowsPerClient} flows)`,
    `packets: to backends ${c.packetsIn}, back ${c.packetsOut}, from backends outside any flow ${c.returnUntranslated}, non-first fragments dropped ${c.fragmentsDropped}` +
      (c.handedOff ? `, handed to the worker owning their flow ${c.handedOff}` : ''),
  ];
  if (withFlows && n.flows.length > 0) {
    lines.push('', table(['PROTO', 'CLIENT', 'SERVICE', 'BACKEND', 'STATE', 'PACKETS', 'IDLE'],
      n.flows.map((f) => [f.protocol, `${f.client}:${f.clientPort}`, `${f.vip}:${f.port}`, `${f.backend} ${f.backendAddress}`, f.state, f.packets, `${(f.idleMs / 1000).toFixed(1)}s`])));
    if (n.flows.length < c.live) lines.push(`(${n.flows.length} most recent of ${c.live})`);
  }
  return lines.join('\n');
}

export function registerNatCommands(program: Command): void {
  const nat = program.command('nat').description('virtual services: the service address owned by the router, flows sent to backends by source');
  nat.command('list')
    .description('services, their backends and live flows (--flows lists the flows)')
    .option('--flows', 'also list the live flows (most recent first)')
    .action(async (o: { flows?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const n = await c.call<NatJson>('GET', '/v1/nat');
      c.print(natText(n, o.flows === true), n);
    });
}
