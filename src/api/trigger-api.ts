// The history triggers' API: list, add and cancel triggers, and push
// history records to the triggers that listen to the API.
import { ConfigError } from '../config/problems.js';
import { parseTrigger, type TriggerConfig } from '../config/migration-config.js';
import { formatAddress } from '../net/addr.js';
import type { HistoryRecord } from '../triggers/history.js';
import type { Trigger } from '../triggers/trigger.js';
import { checkApiFile, type TriggerSet } from '../triggers/trigger-set.js';
import { ApiError, type ApiServer } from './server.js';
import type { HistoryJson, TriggerJson } from './types.js';

/** Most records one POST /v1/history may carry (the body is capped at 1 MiB anyway). */
const MAX_RECORDS = 10_000;

/** The record as the API shows it (without the internal uint32). */
export function historyJson(r: HistoryRecord): HistoryJson {
  return { time: r.time, client: r.client, path: r.path, status: r.status, server: r.server, device: r.device };
}

export function triggerJson(t: Trigger, set: TriggerSet): TriggerJson {
  const c = t.config;
  return {
    name: c.name,
    state: t.state,
    watch: { file: c.file, api: c.api },
    match: { client: formatAddress(c.match.client), server: c.match.server, status: c.match.status, path: c.match.path },
    action: c.action,
    port: c.port,
    armedAt: t.armedAt,
    firedAt: t.firedAt,
    cancelledAt: t.cancelledAt,
    latencyMs: t.latencyMs,
    matched: t.matched ? { ...historyJson(t.matched), via: t.matchedVia! } : null,
    error: t.error,
    tail: (c.file === null ? undefined : set.watchStats(c.file)) ?? null,
  };
}

export function registerTriggerApi(api: ApiServer, set: TriggerSet, portNames: () => string[], log: { info(o: object, m: string): void }): void {
  api.on('GET', '/v1/triggers', () => set.list().map((t) => triggerJson(t, set)));

  api.on('POST', '/v1/triggers', ({ body }) => {
    const config = parseApiTrigger(body, portNames());
    checkApiFile(config.file);
    const t = set.add(config);
    log.info({ event: 'trigger.added', trigger: t.name, port: t.config.port, action: t.config.action, file: t.config.file, api: t.config.api }, `trigger ${t.name} added`);
    return triggerJson(t, set);
  });

  api.on('POST', '/v1/triggers/:name/cancel', ({ params }) => triggerJson(set.cancel(params.name!), set));

  api.on('POST', '/v1/history', ({ body }) => {
    let values: unknown[];
    if (body.records !== undefined) {
      if (!Array.isArray(body.records)) throw new ApiError(400, 'records: must be a list of history records');
      if (body.records.length > MAX_RECORDS) throw new ApiError(413, `records: at most ${MAX_RECORDS} per request`);
      values = body.records;
    } else values = [body];
    const result = set.offerFromApi(values);
    // One record that is no record is a mistake of the caller; in a batch it is reported per record.
    if (body.records === undefined && result.rejected.length) throw new ApiError(400, `not a history record: ${result.rejected[0]!.reason}`);
    return result;
  });
}

function parseApiTrigger(body: unknown, portNames: string[]): TriggerConfig {
  try {
    return parseTrigger(body, '', portNames);
  } catch (e) {
    if (e instanceof ConfigError) throw new ApiError(400, e.message);
    throw e;
  }
}
