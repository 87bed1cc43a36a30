// `tunroute check`: load a config exactly as `run` would, and stop there —
// no root, no devices, no namespaces. Says what the config sets up, or every
// problem with its line and column.
import { ConfigError, formatProblem, type Problem } from '../config/problems.js';
import { loadRouterConfig, type RouterConfig } from '../config/router-config.js';

export interface ConfigCheckJson {
  file: string;
  ok: boolean;
  /** What the config sets up (when ok). */
  router: string | null;
  summary: string | null;
  problems: Problem[];
}

export function checkConfigFile(file: string): ConfigCheckJson {
  try {
    const config = loadRouterConfig(file);
    return { file, ok: true, router: config.router, summary: describeConfig(config), problems: [] };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { file, ok: false, router: null, summary: null, problems: [...e.problems] };
  }
}

/** `FILE: ok (…)`, or one line per problem and a count. */
export function checkText(r: ConfigCheckJson): string {
  if (r.ok) return `${r.file}: ok (${r.summary})`;
  return [...r.problems.map(formatProblem), `${r.file}: ${count(r.problems.length, 'problem')}`].join('\n');
}

function count(n: number, what: string, plural = `${what}s`): string {
  return `${n} ${n === 1 ? what : plural}`;
}

/** "router r1, 3 ports, 3 static routes, BFD (2 tracked routes), …": what a run would start. */
export function describeConfig(c: RouterConfig): string {
  const parts = [`router ${c.router}`, count(c.ports.length, 'port'), count(c.routes.length, 'static route')];
  const bfdRoutes = c.routes.filter((r) => r.bfd).length;
  const bfd = [c.bfd.sessions.length > 0 ? count(c.bfd.sessions.length, 'session') : '', bfdRoutes > 0 ? count(bfdRoutes, 'tracked route') : ''].filter(Boolean);
  if (bfd.length > 0) parts.push(`BFD (${bfd.join(', ')})`);
  if (c.rip) parts.push(`RIP on ${count(c.rip.ports.length, 'port')}`);
  if (c.ospf) parts.push(`OSPF on ${count(c.ospf.ports.length, 'port')}`);
  if (c.policy.length > 0) parts.push(count(c.policy.length, 'policy rule'));
  if (c.virtualServices.length > 0) parts.push(count(c.virtualServices.length, 'virtual service'));
  if (c.triggers.length > 0) parts.push(count(c.triggers.length, 'trigger'));
  parts.push(`API ${c.socket}`);
  return parts.join(', ');
}
