// The testbed's hosts as commands: `serve` (an information-providing server),
// `fleet` (many appliances), `probe` (the test appliance). They are ordinary
// kernel TCP/HTTP programs, meant to run inside a host's network namespace:
//   ip netns exec NS tunroute serve --address 1.1.1.1 --name server1 --log access.jsonl
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Command } from 'commander';
import { ExitError } from '../../daemon/run-daemon.js';
import { startInfoServer, type InfoServer } from '../../hosts/info-server.js';
import { checkSourceAddress, ensureAnyIpRoute, fleetRange } from '../../hosts/fleet.js';
import { isAnswered, Poller, type PollCounters, type PollRecord } from '../../hosts/poller.js';
import { PollRecordWriter } from '../../hosts/records.js';
import { formatDuration, parseDuration } from '../../hosts/duration.js';
import { formatPrefix, parseAddress, parsePrefix } from '../../net/addr.js';
import { ctx, integerArg, parseArg, UsageError } from '../context.js';

// ---- arguments: every mistake is one UsageError line (exit status 2) ----

function durationArg(flag: string, text: string): number {
  const ms = parseArg(flag, text, parseDuration);
  if (ms <= 0) throw new UsageError(`${flag}: "${text}" must be longer than 0`);
  return ms;
}

/** An address argument, kept as text (it goes to Node's net APIs). */
function addressArg(flag: string, text: string): string {
  parseArg(flag, text, parseAddress);
  return text;
}

/** The service URL. Appliances poll a fixed address, so the host must be an IPv4 address, not a name. */
function targetArg(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--target: "${text}" is not a URL (e.g. http://1.1.1.1/poll)`);
  }
  if (url.protocol !== 'http:') throw new UsageError(`--target: "${text}": only http:// is supported`);
  addressArg('--target', url.hostname);
  return url;
}

function jitterArg(text: string): number {
  const j = Number(text);
  if (text.trim() === '' || !Number.isFinite(j) || j < 0 || j > 1) throw new UsageError(`--jitter: "${text}" is not a fraction from 0 to 1`);
  return j;
}

/** A size such as "64MB", "500kB", "1GB" or a plain number of bytes. */
function sizeArg(flag: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB)?\s*$/.exec(text);
  if (!m) throw new UsageError(`${flag}: "${text}" is not a size (e.g. 64MB, 500kB, 1GB)`);
  const unit: Record<string, number> = { B: 1, kB: 1e3, KB: 1024, KiB: 1024, MB: 1e6, MiB: 2 ** 20, GB: 1e9, GiB: 2 ** 30 };
  const n = Math.round(Number(m[1]) * unit[m[2] ?? 'B']!);
  if (n < 1024) throw new UsageError(`${flag}: "${text}" is too small (at least 1kB)`);
  return n;
}

function settingsArg(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--settings: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--settings: ${file} is not JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`--settings: ${file} must hold a JSON object`);
  return v as Record<string, unknown>;
}

// ---- running until told to stop ----

/**
 * SIGINT/SIGTERM, or `ms` passing if given: `stopped` resolves with which.
 * dispose() removes the handlers (a second signal then kills as usual).
 */
function whenStopped(ms?: number): { stopped: Promise<'signal' | 'duration'>; dispose(): void } {
  let finish: (why: 'signal' | 'duration') => void = () => undefined;
  const onSignal = (): void => finish('signal');
  const timer = ms === undefined ? undefined : setTimeout(() => finish('duration'), ms);
  const dispose = (): void => {
    clearTimeout(timer);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  const stopped = new Promise<'signal' | 'duration'>((resolve) => {
    finish = (why) => {
      dispose();
      resolve(why);
    };
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { stopped, dispose };
}

/** A source address that the kernel will not let us use ends the command with a hint, before any poll. */
async function requireLocalSource(address: string, hint: string): Promise<void> {
  const err = await checkSourceAddress(address);
  if (err) throw new ExitError(1, `cannot poll from ${address} (${err}): ${hint}`);
}

// ---- live output ----

const byServerText = (counts: Record<string, number>, suffix = ''): string =>
  Object.entries(counts).map(([s, n]) => `${s} ${n}${suffix}`).join(', ') || 'none answered';

/** Prints a one-line fleet status every second: over itself on a terminal, as plain lines to a file or pipe. */
class ProgressLine {
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly timer: NodeJS.Timeout;
  private last: { at: number; total: number; failed: number; byServer: Record<string, number> };
  private printed = false;

  constructor(private readonly counters: PollCounters, private readonly startedAt: number) {
    this.last = { at: startedAt, total: 0, failed: 0, byServer: {} };
    this.timer = setInterval(() => this.print(), 1000);
  }

  private print(): void {
    const c = this.counters;
    const now = Date.now();
    const secs = Math.max(0.001, (now - this.last.at) / 1000);
    const rate = (n: number, was: number): number => Math.round((n - was) / secs);
    const servers = Object.entries(c.byServer).map(([s, n]) => `${s} ${rate(n, this.last.byServer[s] ?? 0)}/s`).join(' | ');
    const line = `fleet ${Math.round((now - this.startedAt) / 1000)}s: ${rate(c.total, this.last.total)} polls/s | ${servers || 'none answered'}`
      + ` | failed ${rate(c.failed, this.last.failed)}/s | in flight ${c.inFlight} | last error: ${c.lastError ?? '-'}`;
    process.stderr.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
    this.printed = true;
    this.last = { at: now, total: c.total, failed: c.failed, byServer: { ...c.byServer } };
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.tty && this.printed) process.stderr.write('\n');
  }
}

/**
 * The counters as a JSON file, replaced every second (written aside, then
 * renamed: a reader never sees half a file). A supervisor such as the
 * rehearsal shows progress from it without reading every poll record.
 */
class StatusFile {
  private readonly timer: NodeJS.Timeout;
  /** How late the event loop ran: a starved fleet times its own polls out, and this shows it. */
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  constructor(private readonly file: string, private readonly poller: Poller, private readonly startedAt: number, private readonly expected: number | null) {
    this.loop.enable();
    this.write(false);
    this.timer = setInterval(() => this.write(false), 1000);
  }

  /** A write under way: the next second's is skipped rather than queued (a stalled disk must not stall the fleet). */
  private writing: Promise<void> | null = null;

  private write(finished: boolean): void {
    if (this.writing && !finished) return;
    const c = this.poller.counters;
    // Its own CPU and peak memory too: a supervisor cannot read them from /proc once the fleet has exited.
    const cpu = process.cpuUsage();
    const status = {
      time: Date.now(), startedAt: this.startedAt, expected: this.expected, waiting: this.poller.waiting, finished, ...c,
      cpuUserS: cpu.user / 1e6, cpuSysS: cpu.system / 1e6, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      loopDelayMs: { p99: Math.round(this.loop.percentile(99) / 1e6), max: Math.round(this.loop.max / 1e6) },
    };
    const fail = (e: Error): void => {
      process.stderr.write(`fleet: --status ${this.file}: ${e.message}\n`);
    };
    if (finished) {
      // The last word, written before the fleet exits.
      try {
        writeFileSync(`${this.file}.tmp`, JSON.stringify(status));
        renameSync(`${this.file}.tmp`, this.file);
      } catch (e) {
        fail(e as Error);
      }
      return;
    }
    this.writing = writeFile(`${this.file}.tmp`, JSON.stringify(status)).then(() => rename(`${this.file}.tmp`, this.file)).catch(fail).finally(() => {
      this.writing = null;
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
    this.write(true);
    this.loop.disable();
  }
}

function probeLine(r: PollRecord): string {
  const when = new Date(r.t).toISOString().slice(11, 23);
  return isAnswered(r)
    ? `probe ${when} ${r.source}: answered by ${r.server ?? '?'} (HTTP ${r.status}) in ${r.latencyMs} ms`
    : `probe ${when} ${r.source}: failed: ${r.error ?? `HTTP ${r.status}`}`;
}

// ---- the commands ----

export function registerHostCommands(program: Command): void {
  program.command('serve')
    .description('run an information-providing server: answers polls with per-device settings and logs one JSON line per request')
    .requiredOption('--address <addr>', 'address to listen on (the service address, e.g. 1.1.1.1)')
    .option('--port <n>', 'TCP port', '80')
    .requiredOption('--name <name>', 'server name, sent in x-served-by (e.g. server1)')
    .option('--log <file>', 'access log: one JSON line per request, appended; reopened on SIGHUP')
    .option('--settings <json-file>', 'setting data for devices: defaults plus a "devices" map of overrides')
    .option('--keep-alive', 'allow HTTP keep-alive (appliances do not use it)')
    .option('--delay <dur>', 'answer each request after this long, like a server that looks data up (e.g. 50ms)')
    .option('--log-max-size <size>', 'rotate the access log at this size (e.g. 64MB): FILE → FILE.1 → FILE.2 …')
    .option('--log-keep <n>', 'rotated access logs kept', '10')
    .action(async (o: { address: string; port: string; name: string; log?: string; settings?: string; keepAlive?: boolean; delay?: string; logMaxSize?: string; logKeep: string }) => {
      const address = addressArg('--address', o.address);
      const port = integerArg('--port', o.port, 1, 65535);
      const settings = o.settings ? settingsArg(o.settings) : undefined;
      const logMaxBytes = o.logMaxSize === undefined ? undefined : sizeArg('--log-max-size', o.logMaxSize);
      const logKeep = integerArg('--log-keep', o.logKeep, 1, 10_000);
      let server: InfoServer;
      try {
        server = await startInfoServer({
          address, port, name: o.name, logFile: o.log, settings, keepAlive: o.keepAlive, delayMs: o.delay === undefined ? 0 : durationArg('--delay', o.delay), logMaxBytes, logKeep,
        });
      } catch (e) {
        throw new ExitError(1, (e as Error).message);
      }
      const onHup = (): void => server.reopenLog();
      process.on('SIGHUP', onHup);
      process.stdout.write(`${o.name} listening on http://${address}:${port}/${o.log ? ` (access log ${o.log})` : ''}\n`);
      await whenStopped().stopped;
      process.removeListener('SIGHUP', onHup);
      await server.close();
      process.stderr.write(`${o.name}: ${server.requests} requests served${server.logRotations ? `; access log rotated ${server.logRotations} times` : ''}\n`);
    });

  program.command('fleet')
    .description('run a fleet of appliances: COUNT devices on consecutive addresses of PREFIX, each polling TARGET on a jittered schedule')
    .requiredOption('--target <url>', 'service URL, e.g. http://1.1.1.1/poll (?device=ID is added)')
    .requiredOption('--prefix <cidr>', 'source addresses: the devices take its host addresses in order')
    .requiredOption('--count <n>', 'number of devices')
    .option('--interval <dur>', 'each device polls once per interval (e.g. 20s, 500ms)', '10s')
    .option('--jitter <fraction>', 'uniform jitter of each interval, as a fraction of it', '0.2')
    .option('--timeout <dur>', 'deadline of one poll', '2s')
    .option('--out <file.jsonl>', 'append one JSON record per poll here')
    .option('--once', 'each device polls once, at a random moment of the interval (a day of a real fleet); the fleet ends when all have polled')
    .option('--duration <dur>', 'stop after this long (default: run until SIGINT/SIGTERM, or with --once until every device has polled)')
    .option('--status <file.json>', 'write the running counters here every second (for a supervisor)')
    .option('--max-in-flight <n>', 'polls outstanding at most (each holds an open file); a poll due beyond it is not sent, and counted', '16000')
    .option('--anyip', 'add the AnyIP route (ip route replace local PREFIX dev lo) if it is missing')
    .option('--even', 'space the devices\' first polls evenly over the interval (with --jitter 0 they take strict turns)')
    .option('--quiet', 'no progress line')
    .action(async (o: { target: string; prefix: string; count: string; interval: string; jitter: string; timeout: string; out?: string; once?: boolean; duration?: string; status?: string; maxInFlight: string; anyip?: boolean; even?: boolean; quiet?: boolean }, cmd: Command) => {
      const target = targetArg(o.target);
      const prefix = parseArg('--prefix', o.prefix, parsePrefix);
      const count = integerArg('--count', o.count, 1, 2 ** 24);
      const devices = parseArg('--count', o.count, () => fleetRange(prefix, count));
      const intervalMs = durationArg('--interval', o.interval);
      const jitter = jitterArg(o.jitter);
      const timeoutMs = durationArg('--timeout', o.timeout);
      const durationMs = o.duration === undefined ? undefined : durationArg('--duration', o.duration);
      const maxInFlight = integerArg('--max-in-flight', o.maxInFlight, 1, 10_000_000);
      const cidr = formatPrefix(prefix.addr, prefix.len);

      if (o.anyip) {
        try {
          await ensureAnyIpRoute(prefix);
        } catch (e) {
          throw new ExitError(1, (e as Error).message);
        }
      }
      const hint = `it is not local in this namespace; use --anyip, or: ip route add local ${cidr} dev lo`;
      await requireLocalSource(devices.source(0), hint);
      await requireLocalSource(devices.source(count - 1), hint);

      let writer: PollRecordWriter | undefined;
      try {
        writer = o.out ? new PollRecordWriter(o.out) : undefined;
      } catch (e) {
        throw new ExitError(1, `--out: ${(e as Error).message}`);
      }
      const poller = new Poller({ target, devices, intervalMs, jitter, timeoutMs, once: o.once, evenFirst: o.even === true, maxInFlight, onRecord: (r) => writer?.write(r) });
      const startedAt = Date.now();
      poller.start();
      const progress = o.quiet ? undefined : new ProgressLine(poller.counters, startedAt);
      const status = o.status ? new StatusFile(o.status, poller, startedAt, o.once ? count : null) : undefined;
      const stop = whenStopped(durationMs);
      await Promise.race([stop.stopped, ...(o.once ? [poller.finished] : [])]);
      stop.dispose();
      await poller.stop();
      progress?.stop();
      await writer?.close();
      await status?.stop();

      const c = poller.counters;
      const secs = (Date.now() - startedAt) / 1000;
      const summary = { polls: c.total, seconds: Math.round(secs * 10) / 10, pollsPerSecond: Math.round(c.total / secs), byServer: c.byServer, failed: c.failed, skipped: c.skipped, overLimit: c.overLimit, lastError: c.lastError };
      ctx(cmd).print(`fleet: ${c.total} polls in ${summary.seconds}s (${summary.pollsPerSecond}/s): ${byServerText(c.byServer)}; failed ${c.failed}`
        + `${c.skipped ? `; skipped ${c.skipped} (previous poll still outstanding)` : ''}${c.overLimit ? `; not sent ${c.overLimit} (${maxInFlight} polls in flight already)` : ''}`
        + `${c.lastError ? `; last error: ${c.lastError}` : ''}`, summary);
    });

  program.command('probe')
    .description('run the test appliance: poll TARGET from SOURCE until a poll is answered by --until-server (or until a signal)')
    .requiredOption('--target <url>', 'service URL, e.g. http://1.1.1.1/poll')
    .requiredOption('--source <addr>', 'the test appliance\'s own source address')
    .option('--interval <dur>', 'time between polls', '1s')
    .option('--timeout <dur>', 'deadline of one poll', '2s')
    .option('--until-server <name>', 'stop with exit status 0 at the first poll this server answers; its record is printed on stdout')
    .option('--timeout-total <dur>', 'give up after this long (exit status 1)')
    .option('--device <id>', 'device id sent with each poll', 'test-appliance')
    .option('--out <file.jsonl>', 'append one JSON record per poll here')
    .option('--quiet', 'no line per poll on stderr')
    .action(async (o: { target: string; source: string; interval: string; timeout: string; untilServer?: string; timeoutTotal?: string; device: string; out?: string; quiet?: boolean }) => {
      const target = targetArg(o.target);
      const source = addressArg('--source', o.source);
      const intervalMs = durationArg('--interval', o.interval);
      const timeoutMs = durationArg('--timeout', o.timeout);
      const totalMs = o.timeoutTotal === undefined ? undefined : durationArg('--timeout-total', o.timeoutTotal);
      await requireLocalSource(source, 'it is not an address of this namespace');

      let writer: PollRecordWriter | undefined;
      try {
        writer = o.out ? new PollRecordWriter(o.out) : undefined;
      } catch (e) {
        throw new ExitError(1, `--out: ${(e as Error).message}`);
      }
      let found: ((r: PollRecord) => void) | undefined;
      const foundOne = new Promise<PollRecord>((r) => (found = r));
      let last: PollRecord | undefined;
      const poller = new Poller({
        target, devices: [{ id: o.device, source }], intervalMs, jitter: 0, timeoutMs, spreadFirst: false,
        onRecord: (r) => {
          last = r;
          writer?.write(r);
          if (!o.quiet) process.stderr.write(`${probeLine(r)}\n`);
          if (o.untilServer === undefined) process.stdout.write(`${JSON.stringify(r)}\n`);
          else if (isAnswered(r) && r.server === o.untilServer) found!(r);
        },
      });
      poller.start();
      const stop = whenStopped(totalMs);
      const outcome = await Promise.race([foundOne, stop.stopped]);
      stop.dispose();
      await poller.stop();
      await writer?.close();

      if (typeof outcome === 'object') {
        process.stdout.write(`${JSON.stringify(outcome)}\n`);
        return;
      }
      if (o.untilServer === undefined) return;
      const lastText = !last ? 'no poll finished' : isAnswered(last) ? `last answered by ${last.server ?? '?'}` : `last failed: ${last.error ?? `HTTP ${last.status}`}`;
      const why = outcome === 'duration' ? `within ${formatDuration(totalMs!)}` : 'before the probe was stopped';
      throw new ExitError(1, `no poll answered by ${o.untilServer} ${why} (${poller.counters.total} polls, ${lastText})`);
    });
}
