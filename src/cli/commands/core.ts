// Core commands: run the daemon, check a config; ports, routes, stats of a running one.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ROUTES_PER_REQUEST, type LookupJson, type PortJson, type RouteJson, type StatsJson } from '../../api/types.js';
import { checkConfigFile, checkText } from '../../daemon/check-config.js';
import { ExitError, runDaemon } from '../../daemon/run-daemon.js';
import { parseAddress, parsePrefix } from '../../net/addr.js';
import { ctx, integerArg, parseArg, UsageError } from '../context.js';
import { duration, StreamedTable, table } from '../table.js';

const metricArg = (v: string) => integerArg('--metric', v, 0, 0x7fffffff);

const ROUTE_HEADERS = ['PREFIX', 'VIA', 'PORT', 'METRIC', 'SOURCE', 'STATE', 'WHY', 'AGE'];

const routeRow = (r: RouteJson) => [r.prefix, r.via ?? 'direct', r.port, r.metric, r.source + (r.bfd ? '+bfd' : ''), r.state === 'active' ? '*active' : r.state, r.unusable, duration(r.ageMs)];

export function registerCoreCommands(program: Command): void {
  program.command('run')
    .description('run a router daemon (in the foreground)')
    .requiredOption('-c, --config <file>', 'router config (JSON)')
    .option('--log-file <file>', 'append JSON log lines here instead of stdout')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .option('--workers <n>', 'forwarding worker threads, one queue of every port each (overrides the config\'s "workers"; 0: forward in the daemon\'s thread)')
    .action(async (o: { config: string; logFile?: string; logLevel?: string; workers?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as { socket?: string };
      const workers = o.workers === undefined ? undefined : integerArg('--workers', o.workers, 0, 64);
      await runDaemon({ config: o.config, logFile: o.logFile, logLevel: o.logLevel, socket: g.socket, workers });
    });

  program.command('check')
    .description('check a router config as `run` would load it, without root or devices; exit status 2 if it has problems')
    .requiredOption('-c, --config <file>', 'router config (JSON)')
    .action((o: { config: string }, cmd: Command) => {
      const json = Boolean((cmd.optsWithGlobals() as { json?: boolean }).json);
      const r = checkConfigFile(o.config);
      process.stdout.write(json ? `${JSON.stringify(r, null, 2)}\n` : `${checkText(r)}\n`);
      // Already said on stdout: exit 2 without another line.
      if (!r.ok) throw new ExitError(2, `${r.file}: config has problems`, []);
    });

  const port = program.command('port').description('router ports: list, block, unblock, drain');
  port.command('list').description('list ports and their state').action(async (_o, cmd: Command) => {
    const c = ctx(cmd);
    const ports = await c.call<PortJson[]>('GET', '/v1/ports');
    c.print(table(['PORT', 'DEVICE', 'NETNS', 'ADDRESS', 'MTU', 'STATE', 'FOR', 'RX', 'TX', 'DROPS'],
      ports.map((p) => [p.name, p.device, p.netns, p.address, p.mtu, p.state, duration(Date.now() - p.sinceMs), p.rxPackets, p.txPackets,
        Object.values(p.drops).reduce((a, b) => a + b, 0)])), ports);
  });
  for (const verb of ['block', 'unblock'] as const) {
    port.command(`${verb} <port>`)
      .description(verb === 'block'
        ? 'block a port: it sends and receives nothing, its routes are withdrawn, neighbours are told'
        : 'unblock a port: it carries traffic again and its routes come back')
      .action(async (name: string, _o, cmd: Command) => {
        const c = ctx(cmd);
        const r = await c.call('POST', `/v1/ports/${encodeURIComponent(name)}/${verb}`);
        c.print(`port ${name} ${verb}ed`, r);
      });
  }

  port.command('drain <port>')
    .description('zero-loss cut-over: new flows leave now, running flows finish on the port, then it blocks itself')
    .option('--max-wait <ms>', 'block anyway after this many ms', '30000')
    .action(async (name: string, o: { maxWait: string }, cmd: Command) => {
      if (!/^\d+$/.test(o.maxWait)) throw new UsageError(`--max-wait: "${o.maxWait}" is not a number of milliseconds`);
      const c = ctx(cmd);
      const r = await c.call('POST', `/v1/ports/${encodeURIComponent(name)}/drain`, { maxMs: Number(o.maxWait) });
      c.print(`port ${name} draining (blocks itself when its flows are done)`, r);
    });

  const route = program.command('route').description('the route table: list, lookup, add, del');
  route.command('list').description('every route: source, metric, and why an unusable one is unusable').action(async (_o, cmd: Command) => {
    // Streamed: 500,000 routes are printed as they come, never held whole.
    const c = ctx(cmd);
    const t = new StreamedTable(ROUTE_HEADERS);
    await c.printList(c.list<RouteJson>('/v1/routes'), { batch: (routes) => t.rows(routes.map(routeRow)), end: () => t.end() });
  });
  route.command('lookup <addr>')
    .description('which route a packet to ADDR takes (with --from, after source-based rules)')
    .option('--from <src>', 'source address of the packet')
    .action(async (addr: string, o: { from?: string }, cmd: Command) => {
      parseArg('address', addr, parseAddress);
      if (o.from) parseArg('--from', o.from, parseAddress);
      const c = ctx(cmd);
      const q = new URLSearchParams({ addr, ...(o.from ? { from: o.from } : {}) });
      const r = await c.call<LookupJson>('GET', `/v1/routes/lookup?${q}`);
      const text = r.port === null ? `${addr}: no route`
        : r.route ? `${addr}: ${r.route.prefix} via ${r.route.via ?? 'direct'} port ${r.port} metric ${r.route.metric} (${r.route.source})`
          : `${addr}: port ${r.port} (${r.decidedBy})`;
      c.print(text, r);
    });
  route.command('add <prefix>')
    .description('add a route at run time')
    .requiredOption('-p, --port <port>', 'egress port')
    .option('--via <addr>', 'next-hop address (default: on-link)')
    .option('--metric <n>', 'metric (lower wins)', '1')
    .option('--bfd', 'usable only while BFD to the next hop is Up')
    .action(async (prefix: string, o: { port: string; via?: string; metric: string; bfd?: boolean }, cmd: Command) => {
      parseArg('prefix', prefix, parsePrefix);
      if (o.via) parseArg('--via', o.via, parseAddress);
      const c = ctx(cmd);
      const r = await c.call<RouteJson>('POST', '/v1/routes', { prefix, port: o.port, via: o.via, metric: metricArg(o.metric), bfd: o.bfd === true });
      c.print(`added ${r.prefix} via ${r.via ?? 'direct'} port ${r.port} metric ${r.metric} (${r.state})`, r);
    });
  route.command('load <file>')
    .description(`add every route a JSON file lists (a list, or { "routes": [...] }, each as in the config's routes[]); ${ROUTES_PER_REQUEST} per request, each request all or nothing`)
    .action(async (file: string, _o, cmd: Command) => {
      const routes = routesFile(file);
      const c = ctx(cmd);
      let added = 0;
      for (let i = 0; i < routes.length; i += ROUTES_PER_REQUEST) {
        try {
          added += (await c.call<{ added: number }>('POST', '/v1/routes', { routes: routes.slice(i, i + ROUTES_PER_REQUEST) })).added;
        } catch (e) {
          // Name the entry in the file, not in the request.
          const msg = (e as Error).message.replace(/routes\[(\d+)\]/g, (_m, n: string) => `routes[${i + Number(n)}]`);
          throw new ExitError(1, `${file}: ${added ? `${added} routes added, then ` : ''}${msg}`);
        }
      }
      c.print(`added ${added} routes`, { added });
    });
  route.command('del <prefix>')
    .description('remove a route (give --port/--via/--metric when several match)')
    .option('-p, --port <port>', 'egress port')
    .option('--via <addr>', 'next-hop address')
    .option('--metric <n>', 'metric')
    .action(async (prefix: string, o: { port?: string; via?: string; metric?: string }, cmd: Command) => {
      parseArg('prefix', prefix, parsePrefix);
      if (o.via) parseArg('--via', o.via, parseAddress);
      const c = ctx(cmd);
      const r = await c.call<{ removed: RouteJson }>('DELETE', '/v1/routes', { prefix, port: o.port, via: o.via, metric: o.metric === undefined ? undefined : metricArg(o.metric) });
      c.print(`removed ${r.removed.prefix} via ${r.removed.via ?? 'direct'} port ${r.removed.port}`, r);
    });

  program.command('stats').description('per-port packet counters and drops by reason; the drain flow table').action(async (_o, cmd: Command) => {
    const c = ctx(cmd);
    const s = await c.call<StatsJson>('GET', '/v1/stats');
    const rows = Object.entries(s.ports).map(([name, p]) => [name, p.state, p.rxPackets, p.rxBytes, p.rxBatches ? (p.rxPackets / p.rxBatches).toFixed(1) : '-', p.txPackets, p.txBytes,
      Object.entries(p.drops).map(([k, v]) => `${k}=${v}`).join(' ') || '-']);
    const link = Object.entries(s.ports).filter(([, p]) => p.link && Object.keys(p.link.drops).length > 0)
      .map(([name, p]) => `\n${name}: ${Object.entries(p.link!.drops).map(([k, v]) => `${k}=${v}`).join(' ')}`).join('');
    const linkDrops = link ? `\nLink-layer drops (Ethernet ports; their link events: \`stats --json\`):${link}` : '';
    const policy = s.policy.length ? `\npolicy hits: ${s.policy.map((r) => `${r.rule}=${r.hits}`).join(' ')}` : '';
    const f = s.flows;
    const flows = `\nDrain flow table: ${f.live} live of ${f.capacity} entries; ${f.inserted} inserted, ${f.evictedLive} live evicted, ${f.untracked} untracked; ${f.pinnedToDrainingPort} packets pinned to a draining port`;
    c.print(`${table(['PORT', 'STATE', 'RX PKTS', 'RX BYTES', 'PKTS/WAKE-UP', 'TX PKTS', 'TX BYTES', 'DROPS'], rows)}\nICMP errors sent ${s.icmp.sent}, rate-limited ${s.icmp.rateLimited}\nReplies (echo, timestamp, mask, TCP reset) sent ${s.replies.sent}, rate-limited ${s.replies.rateLimited}${linkDrops}${flows}${policy}`, s);
  });
}

/** The routes a `route load` file lists. */
function routesFile(file: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  const list = Array.isArray(v) ? v : (v as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(list)) throw new UsageError(`${file}: expected a list of routes, or { "routes": [...] }`);
  return list;
}
