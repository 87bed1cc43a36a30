// `tunroute bfd …`: the BFD sessions of a running daemon.
import type { Command } from 'commander';
import type { BfdJson } from '../../api/types.js';
import { ctx } from '../context.js';
import { duration, table } from '../table.js';

function ms(v: number): string {
  return `${Number.isInteger(v) ? v : v.toFixed(1)}ms`;
}

export function bfdTable(b: BfdJson): string {
  return table(['PORT', 'PEER', 'STATE', 'TX', 'RX', 'MULT', 'UPTIME', 'DIAG', 'AUTH'],
    b.sessions.map((s) => [s.port, s.peer, s.state, ms(s.txIntervalMs), ms(s.rxIntervalMs), s.detectMult,
      s.uptimeMs === null ? null : duration(s.uptimeMs), s.lastDiagnostic === 'none' ? null : s.lastDiagnostic,
      s.auth.type === 'none' ? null : `${s.auth.type} ${s.auth.sendKey === null ? '(no valid key!)' : `key ${s.auth.sendKey}`}`]));
}

export function registerBfdCommands(program: Command): void {
  const bfd = program.command('bfd').description('BFD sessions (RFC 5880/5881)');
  bfd.command('list').description('every BFD session: state, negotiated intervals, uptime, last diagnostic').action(async (_o, cmd: Command) => {
    const c = ctx(cmd);
    const b = await c.call<BfdJson>('GET', '/v1/bfd');
    const drops = Object.entries(b.counters.drops).map(([k, v]) => `${k}=${v}`).join(' ');
    c.print(b.sessions.length ? `${bfdTable(b)}${drops ? `\ndropped: ${drops}` : ''}` : 'no BFD sessions', b);
  });
}
