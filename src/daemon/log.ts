// Logs are pino JSON lines with a millisecond epoch `time`. Every state
// change is one line with an `event` field (port.blocked, route.changed, …),
// so a cut-over can be reconstructed from the log alone.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(router: string, level: string, file?: string): Logger {
  const dest = file ? pino.destination({ dest: file, mkdir: true, append: true, sync: true }) : pino.destination({ dest: 1, sync: true });
  return pino({ level, base: { router }, timestamp: pino.stdTimeFunctions.epochTime }, dest);
}

/** A logger that drops everything (unit tests, tools). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
