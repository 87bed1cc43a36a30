// `tunroute run`: load the config, open the ports, serve the API, and run
// until SIGINT/SIGTERM. Failures end with an exit status: 2 for a bad config
// (one line per problem), 1 with one line for anything else (no TUN, no
// permission, …).
import { ApiServer } from '../api/server.js';
import { ConfigError } from '../config/problems.js';
import { loadRouterConfig, type RouterConfig } from '../config/router-config.js';
import type { Router } from '../router/router.js';
import { assembleDaemon } from './assemble.js';
import { createLogger } from './log.js';

export interface RunOptions {
  config: string;
  logFile?: string;
  logLevel?: string;
  socket?: string;
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
  const log = createLogger(config.router, opts.logLevel ?? config.logLevel, opts.logFile);
  const api = new ApiServer();
  let router: Router;
  try {
    router = assembleDaemon(config, log, api).router;
  } catch (e) {
    throw new ExitError(1, `${config.router}: ${(e as Error).message}`);
  }
  try {
    await api.listen(config.socket);
  } catch (e) {
    router.stop();
    throw new ExitError(1, `${config.router}: cannot serve the API on ${config.socket}: ${(e as Error).message}`);
  }
  router.start();
  log.info({ event: 'api.listening', socket: config.socket }, `API on ${config.socket}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ event: 'router.signal', signal }, `stopping on ${signal}`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  router.stop();
  await api.close();
  log.flush();
}
