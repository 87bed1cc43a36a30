// History-triggered port blocks: list, add, cancel triggers of a running
// daemon, and push history lines to it by hand.
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { parseAddress } from '../../net/addr.js';
import type { HistoryOfferJson, TriggerJson } from '../../api/types.js';
import { ctx, parseArg, UsageError } from '../context.js';
import { table } from '../table.js';

function clock(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().slice(11, 23);
}

/** Something worth knowing that has no column: why it failed, or how its file looks. */
function note(t: TriggerJson): string | null {
  if (t.error) return t.error;
  if (t.matched) return `by ${t.matched.via}: ${t.matched.server} ${t.matched.status} ${t.matched.path}`;
  if (!t.tail) return null;
  if (t.tail.lastError) return `file: ${t.tail.lastError}`;
  const skipped = t.tail.malformed + t.tail.invalid;
  return [t.tail.following ? null : 'waiting for the file', skipped ? `${skipped} lines skipped` : null].filter(Boolean).join(', ') || null;
}

export function triggerTable(triggers: TriggerJson[]): string {
  return table(['NAME', 'STATE', 'ACTION', 'PORT', 'WATCH', 'MATCH', 'FIRED', 'LATENCY', 'NOTE'],
    triggers.map((t) => [
      t.name, t.state, t.action, t.port,
      [t.watch.file, t.watch.api ? 'api' : null].filter(Boolean).join(' + '),
      [t.match.client, t.match.server ?? '*', t.match.status ?? '*', t.match.path ? `${t.match.path}*` : '*'].join(' '),
      clock(t.firedAt), t.latencyMs === null ? null : `${t.latencyMs} ms`, note(t),
    ]));
}

function statusArg(v: string): number | undefined {
  if (v === 'any') return undefined;
  const n = Number(v);
  if (!/^\d{3}$/.test(v) || n < 100 || n > 599) throw new UsageError(`--status: "${v}" is not an HTTP status (100-599) or "any"`);
  return n;
}

function parseJsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what}: not valid JSON (${(e as Error).message})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerTriggerCommands(program: Command): void {
  const trigger = program.command('trigger').description('history-triggered port blocks: list, add, cancel');

  trigger.command('list').description('triggers, their state, and the latency of those that fired').action(async (_o, cmd: Command) => {
    const c = ctx(cmd);
    const triggers = await c.call<TriggerJson[]>('GET', '/v1/triggers');
    c.print(triggers.length ? triggerTable(triggers) : 'no triggers', triggers);
  });

  trigger.command('add <name>')
    .description('arm a trigger: when the history line of CLIENT answered by SERVER appears, block (or drain) PORT, once')
    .requiredOption('--client <addr>', 'source address of the test appliance')
    .option('--server <name>', 'name of the server that must have answered (e.g. server2)')
    .option('--status <code>', 'HTTP status it must have answered with, or "any"', '200')
    .option('--path <prefix>', 'request path must start with this (e.g. /poll)')
    .option('--file <access-log>', 'follow this access log (JSON lines)')
    .option('--api', 'accept history lines POSTed to the API (tunroute history post)')
    .addOption(new Option('--action <action>', 'what to do to the port').choices(['block', 'drain']).default('block'))
    .requiredOption('-p, --port <port>', 'the port to block')
    .action(async (name: string, o: { client: string; server?: string; status: string; path?: string; file?: string; api?: boolean; action: string; port: string }, cmd: Command) => {
      parseArg('--client', o.client, parseAddress);
      if (!o.file && !o.api) throw new UsageError('give --file <access-log>, --api, or both: where the history comes from');
      const body = {
        name,
        // The daemon resolves nothing against our working directory.
        ...(o.file ? { file: resolve(o.file) } : {}),
        api: o.api === true,
        match: { client: o.client, server: o.server, status: statusArg(o.status), path: o.path },
        action: o.action,
        port: o.port,
      };
      const c = ctx(cmd);
      const t = await c.call<TriggerJson>('POST', '/v1/triggers', body);
      c.print(`trigger ${t.name} armed: ${t.action} port ${t.port} when ${t.match.server ?? 'a server'} answers ${t.match.client}`, t);
    });

  trigger.command('cancel <name>').description('disarm a trigger that has not fired').action(async (name: string, _o, cmd: Command) => {
    const c = ctx(cmd);
    const t = await c.call<TriggerJson>('POST', `/v1/triggers/${encodeURIComponent(name)}/cancel`);
    c.print(`trigger ${t.name} cancelled`, t);
  });

  const history = program.command('history').description('history information (access-log lines) for the triggers');
  history.command('post <record>')
    .description('push history lines to the daemon: one JSON record, a JSON list of them, or "-" for JSON lines on stdin')
    .action(async (record: string, _o, cmd: Command) => {
      let body: unknown;
      if (record === '-') {
        const lines = (await readStdin()).split('\n').filter((l) => l.trim());
        body = { records: lines.map((l, i) => parseJsonArg(l, `stdin line ${i + 1}`)) };
      } else {
        const v = parseJsonArg(record, 'record');
        if (Array.isArray(v)) body = { records: v };
        else if (typeof v === 'object' && v !== null) body = v;
        else throw new UsageError('record: must be a JSON object (or a list of them)');
      }
      const c = ctx(cmd);
      const r = await c.call<HistoryOfferJson>('POST', '/v1/history', body);
      const lines = [`accepted ${r.accepted}`, ...r.rejected.map((x) => `rejected record ${x.index}: ${x.reason}`),
        r.fired.length ? `fired: ${r.fired.join(', ')}` : 'no trigger fired'];
      c.print(lines.join('\n'), r);
    });
}
