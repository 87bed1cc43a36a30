// History-triggered port blocks on a router: the triggers of its config, and
// their API. The set plugs into the router as a control protocol, so its tails
// open when the router starts (ports up) and close when it stops; records
// appended to a watched file before the router started are not looked at.
import { dirname } from 'node:path';
import { ApiError, type ApiServer } from '../api/server.js';
import { ConfigError } from '../config/fields.js';
import { parseTrigger, type TriggerConfig } from '../config/migration-config.js';
import type { Router } from '../daemon/router.js';
import { Trigger, TriggerError } from './trigger.js';
import { checkApiFile, TriggerSet } from './triggers.js';

/** Most records one POST /v1/history may carry (the body is capped at 1 MiB anyway). */
const MAX_RECORDS = 10_000;

export function setupTriggers(router: Router, api: ApiServer): TriggerSet {
  const set = new TriggerSet(router, { baseDir: dirname(router.config.file) });
  for (const c of router.config.triggers) set.add(c);

  router.addProtocol({
    name: 'triggers',
    start: () => void set.start(),
    stop: () => void set.stop(),
  });

  const json = (t: Trigger) => {
    const tail = t.config.file === null ? undefined : set.watchStats(t.config.file);
    return { ...t.toJSON(), tail: tail ?? null };
  };

  api.on('GET', '/v1/triggers', () => set.list().map(json));

  api.on('POST', '/v1/triggers', ({ body }) => {
    const config = parseApiTrigger(body, router.ports.map((p) => p.name));
    return json(apiCall(() => {
      checkApiFile(config.file);
      const t = set.add(config);
      router.log.info({ event: 'trigger.added', trigger: t.name, port: t.config.port, action: t.config.action, file: t.config.file, api: t.config.api }, `trigger ${t.name} added`);
      return t;
    }));
  });

  api.on('POST', '/v1/triggers/:name/cancel', ({ params }) => json(apiCall(() => set.cancel(params.name!))));

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

  return set;
}

function parseApiTrigger(body: unknown, portNames: string[]): TriggerConfig {
  try {
    return parseTrigger(body, '', portNames);
  } catch (e) {
    if (e instanceof ConfigError) throw new ApiError(400, e.message);
    throw e;
  }
}

function apiCall<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TriggerError) throw new ApiError(e.status, e.message);
    throw e;
  }
}
