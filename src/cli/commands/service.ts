// Running the daemon as a service: reload its config, show the running
// config, change the log level — without a restart.
import type { Command } from 'commander';
import type { ReloadJson } from '../../api/types.js';
import { ctx } from '../context.js';

function reloadText(r: ReloadJson): string {
  if (!r.changed) return `${r.file}: reloaded, nothing changed`;
  const parts = [
    ...(['added', 'removed', 'changed'] as const).filter((k) => r.ports[k].length).map((k) => `ports ${k}: ${r.ports[k].join(', ')}`),
    ...(r.staticRoutes.added || r.staticRoutes.removed ? [`static routes +${r.staticRoutes.added} −${r.staticRoutes.removed}`] : []),
    ...(['policy', 'virtualServices', 'bfd', 'rip', 'ospf'] as const).filter((k) => r[k]).map((k) => `${k} changed`),
    ...(r.triggers.added.length || r.triggers.removed.length ? [`triggers +${r.triggers.added.join(',') || 0} −${r.triggers.removed.join(',') || 0}`] : []),
    ...(r.settings.length ? [`settings: ${r.settings.join(', ')}`] : []),
  ];
  return `${r.file}: reloaded — ${parts.join('; ')}`;
}

export function registerServiceCommands(program: Command): void {
  program.command('reload')
    .description('re-read the config file and apply the difference (a bad config is refused; the running one stays)')
    .action(async (_o, cmd: Command) => {
      const c = ctx(cmd);
      const r = await c.call<ReloadJson>('POST', '/v1/reload');
      c.print(reloadText(r), r);
    });
  program.command('config')
    .description('the running config, in the config file format')
    .action(async (_o, cmd: Command) => {
      const c = ctx(cmd);
      const config = await c.call('GET', '/v1/config');
      c.print(JSON.stringify(config, null, 2), config);
    });
  program.command('log-level <level>')
    .description('change the log level at run time (fatal, error, warn, info, debug, trace, silent)')
    .action(async (level: string, _o, cmd: Command) => {
      const c = ctx(cmd);
      const r = await c.call('POST', '/v1/log', { level });
      c.print(`log level ${level}`, r);
    });
}
