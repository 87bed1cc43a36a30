// `tunroute run`: load the config, open the ports, serve the API, and run
// until SIGINT/SIGTERM; SIGHUP reloads the config (and reopens the log),
// SIGUSR1 reopens the log. Failures end with an exit status: 2 for a bad
// config (one line per problem), 1 with one line for anything else (no TUN,
// no permission, …).
import { ApiServer } from '../api/server.js';
import { ConfigError } from '../config/problems.js';
import { MAX_WORKERS, loadRouterConfig, type RouterConfig } from '../config/router-config.js';
import type { Server } from 'node:http';
import { registerConfigApi } from '../api/config-api.js';
import { serveMetrics } from '../api/metrics.js';
import { assembleDaemon, type Daemon } from './assemble.js';
import { ReloadRefused, asOperationError, reloadDaemon } from './reload.js';
import { chooseTunIo } from '../router/port-devices.js';
import { LogSink, createLogger } from './log.js';

export interface RunOptions {
  config: string;
  logFile?: string;
  logLevel?: string;
  socket?: string;
  /** Forwarding workers (overrides the config's `workers`). */
  workers?: number;
}

export class ExitError extends Error {
  /**
   * @param lines what to print on stderr instead of `tunroute: message`
   *              (e.g. one line per config problem; none if already printed)
   */
  constructor(readonly exitCode: number, message: string, readonly lines?: readonly string[]) {
    super(message);
  }
}

export async function runDaemon(opts: RunOptions): Promise<void> {
  let config: RouterConfig;
  try {
    config = loadRouterConfig(opts.config);
  } catch (e) {
    if (e instanceof ConfigError) {
      const n = e.problems.length;
      throw new ExitError(2, e.message, [...e.lines(), `tunroute: ${opts.config}: ${n} problem${n === 1 ? '' : 's'}, not started`]);
    }
    throw e;
  }
  if (opts.socket) config.socket = opts.socket;
  if (opts.workers !== undefined) {
    if (!Number.isInteger(opts.workers) || opts.workers < 0 || opts.workers > MAX_WORKERS) {
      throw new ExitError(2, `--workers: ${opts.workers} is not a whole number from 0 to ${MAX_WORKERS}`);
    }
    config.workers = opts.workers;
  }
  let sink: LogSink;
  try {
    sink = new LogSink(opts.logFile);
  } catch (e) {
    throw new ExitError(1, `${config.router}: cannot open the log ${opts.logFile}: ${(e as Error).message}`);
  }
  const log = createLogger(config.router, opts.logLevel ?? config.logLevel, sink);
  const io = chooseTunIo(config.ioUring);
  if (config.ports.some((p) => p.type === 'tun')) {
    if (io.ioUring) log.info({ event: 'tun.io', ioUring: true }, 'TUN ports read and write their batches through io_uring');
    else log[config.ioUring ? 'warn' : 'info']({ event: 'tun.io', ioUring: false, reason: io.reason }, `TUN ports read and write one packet a system call: ${io.reason}`);
  }
  const api = new ApiServer();
  let daemon: Daemon;
  try {
    daemon = assembleDaemon(config, log, api, { logSink: sink });
  } catch (e) {
    throw new ExitError(1, `${config.router}: ${(e as Error).message}`);
  }
  const { router } = daemon;
  const reload = () => {
    try {
      return reloadDaemon(daemon, opts.config, { keepLogLevel: opts.logLevel !== undefined });
    } catch (e) {
      if (e instanceof ReloadRefused) log.warn({ event: 'config.refused', error: e.message }, `reload refused: ${e.message}`);
      throw asOperationError(e);
    }
  };
  registerConfigApi(api, { config: () => router.config, reload, setLogLevel: (level) => void (log.level = level) });
  try {
    await api.listen(config.socket);
  } catch (e) {
    router.stop();
    throw new ExitError(1, `${config.router}: cannot serve the API on ${config.socket}: ${(e as Error).message}`);
  }
  let metricsServer: Server | undefined;
  if (config.metricsListen) {
    const { address, port } = config.metricsListen;
    try {
      metricsServer = await serveMetrics(address, port, daemon.metrics);
    } catch (e) {
      router.stop();
      await api.close();
      throw new ExitError(1, `${config.router}: cannot serve metrics on ${address}:${port}: ${(e as Error).message}`);
    }
  }
  router.start();
  log.info({ event: 'api.listening', socket: config.socket, metrics: config.metricsListen ?? undefined }, `API on ${config.socket}`);

  // SIGHUP: reload the config and reopen the log (what logrotate and `systemctl reload` send); SIGUSR1: reopen the log.
  process.on('SIGHUP', () => {
    sink.reopen();
    try {
      reload();
    } catch (e) {
      process.stderr.write(`tunroute: ${config.router}: reload refused: ${(e as Error).message}\n`);
    }
  });
  process.on('SIGUSR1', () => sink.reopen());
  // Runs until a signal, or a failure the router cannot run on with (its message).
  const failure = await new Promise<string | null>((resolve) => {
    const stop = (signal: string) => {
      log.info({ event: 'router.signal', signal }, `stopping on ${signal}`);
      resolve(null);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    router.onFatal = (message) => {
      log.fatal({ event: 'router.fatal', error: message }, `stopping: ${message}`);
      resolve(message);
    };
  });
  router.stop();
  metricsServer?.close();
  await api.close();
  await router.stopped();
  if (failure) throw new ExitError(1, `${config.router}: ${failure}`);
}
