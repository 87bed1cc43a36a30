// History information (the method's step 3): one access-log line of an
// information-providing server, as written by src/hosts/info-server.ts —
//   {"time": <epoch ms>, "client": "<addr>", "path": "<path+query>",
//    "status": <code>, "server": "<name>", "device": <id|null>}
// Lines come from files and from the API, i.e. from outside: every field is
// checked before a trigger looks at it.
import { formatAddress, parseAddress } from '../net/addr.js';

export interface HistoryRecord {
  /** When the server answered, epoch ms. */
  time: number;
  /** The polling device's source address, dotted. */
  client: string;
  /** The same address as a uint32, for matching. */
  clientAddr: number;
  /** Request path with query. */
  path: string;
  /** HTTP status the server answered with. */
  status: number;
  /** Name of the server that answered (e.g. "server2"). */
  server: string;
  /** Device id from the poll, if any. */
  device: string | null;
}

export type HistoryParse = { record: HistoryRecord; reason: null } | { record: null; reason: string };

/** Longest path / server / device text accepted; anything longer is not a real poll. */
const MAX_TEXT = 8192;

function reject(reason: string): HistoryParse {
  return { record: null, reason };
}

function text(v: unknown, field: string): string | HistoryParse {
  if (typeof v !== 'string' || v.length === 0) return reject(`${field}: must be a non-empty string`);
  if (v.length > MAX_TEXT) return reject(`${field}: longer than ${MAX_TEXT} characters`);
  return v;
}

/** Check one parsed JSON value; never throws. */
export function parseHistoryRecord(obj: unknown): HistoryParse {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return reject('not a JSON object');
  const o = obj as Record<string, unknown>;

  const time = o.time;
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) return reject('time: must be epoch milliseconds (a number ≥ 0)');

  if (typeof o.client !== 'string') return reject('client: must be a dotted IPv4 address');
  // A dual-stack server may log the v4-mapped form.
  const clientText = o.client.startsWith('::ffff:') ? o.client.slice(7) : o.client;
  let clientAddr: number;
  try {
    clientAddr = parseAddress(clientText);
  } catch {
    return reject(`client: ${JSON.stringify(o.client.slice(0, 64))} is not a dotted IPv4 address`);
  }

  const path = text(o.path, 'path');
  if (typeof path !== 'string') return path;

  const status = o.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return reject('status: must be an HTTP status from 100 to 599');

  const server = text(o.server, 'server');
  if (typeof server !== 'string') return server;

  let device: string | null = null;
  if (typeof o.device === 'number' && Number.isFinite(o.device)) device = String(o.device);
  else if (o.device !== undefined && o.device !== null) {
    const d = text(o.device, 'device');
    if (typeof d !== 'string') return d;
    device = d;
  }

  return { record: { time, client: formatAddress(clientAddr), clientAddr, path, status, server, device }, reason: null };
}
