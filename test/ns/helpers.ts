// Shared pieces of the namespace tests.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Lab, RouterProcess } from '../../src/testbed/lab.js';
import { spawnInfoServer } from '../../src/testbed/servers.js';
import { inNetns, run, waitFor, sleep } from '../../src/testbed/shell.js';
import { TunDevice, TX_DROPPED_EVERY_MS } from '../../src/ports/tun-device.js';
import { writeIpv4Header } from '../../src/wire/ipv4.js';

const HTTP_SERVER = `
const http = require('http');
const [addr, port] = process.argv.slice(1);
http.createServer((req, res) => {
  const n = Number(new URL(req.url, 'http://x').searchParams.get('bytes') ?? 2);
  res.end('x'.repeat(n));
}).listen(Number(port), addr);
`;

/** A plain Node HTTP server on addr:port inside `ns`; answers ?bytes=N with N × "x". */
export async function startHttpEcho(lab: Lab, ns: string, addr: string, port: number): Promise<ChildProcess> {
  const child = lab.spawnIn(ns, process.execPath, ['-e', HTTP_SERVER, addr, String(port)]);
  await waitFor('http server', async () => {
    await inNetns(ns, 'curl', ['-sf', '--max-time', '1', `http://${addr}:${port}/?bytes=1`]);
    return true;
  }, 10_000, 50);
  return child;
}

/** A counter from /proc/net/snmp as seen inside `ns` (e.g. Ip ReasmOKs). */
export async function snmpCounter(ns: string, group: string, name: string): Promise<number> {
  const text = (await inNetns(ns, 'cat', ['/proc/net/snmp'])).stdout;
  const lines = text.split('\n').filter((l) => l.startsWith(`${group}:`));
  const keys = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1);
  const i = keys.indexOf(name);
  if (i < 0) throw new Error(`no ${group} ${name} in /proc/net/snmp`);
  return Number(values[i]);
}

/**
 * Send hand-made bad packets toward the router from inside host namespace
 * `ns`: a TUN of the test's own ("inject") whose received packets tc
 * redirects out of the host's port device — the router reads them as if the
 * host had sent them.
 */
export async function sendMalformed(ns: string, portDevice: string, src: string, dst: string): Promise<void> {
  const inj = new TunDevice({ name: `${portDevice.slice(0, 11)}inj`, netns: ns });
  try {
    await inNetns(ns, 'tc', ['qdisc', 'add', 'dev', inj.name, 'ingress']);
    await inNetns(ns, 'tc', ['filter', 'add', 'dev', inj.name, 'ingress', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', portDevice]);
    const buf = new ArrayBuffer(4096);
    const u8 = new Uint8Array(buf);
    const offs = new Int32Array(8);
    const lens = new Int32Array(8);
    const s = addrNum(src);
    const d = addrNum(dst);
    let n = 0;
    const put = (len: number, fill: (at: number) => void) => {
      const at = n * 512;
      writeIpv4Header(u8, at, len, 17, s, d, 64);
      fill(at);
      offs[n] = at;
      lens[n] = len;
      n++;
    };
    put(60, (at) => { u8[at + 10]! ^= 0xff; }); // bad header checksum
    put(60, (at) => { u8[at] = 0x65; }); // version 6
    put(60, (at) => { u8[at] = 0x44; }); // IHL 4
    put(60, (at) => { u8[at + 2] = 0x05; u8[at + 3] = 0xdc; u8[at + 10] = 0; u8[at + 11] = 0; }); // total length 1500 > 60
    put(60, () => undefined);
    lens[4] = 12; // truncated
    inj.writeBatch(buf, offs, lens, n);
    await sleep(200);
  } finally {
    inj.close();
  }
}

/**
 * Send hand-made datagrams toward the router from inside host namespace
 * `ns`, the way sendMalformed does (a TUN of the test's own, redirected out
 * of the host's port device by tc).
 */
export async function injectFromHost(ns: string, portDevice: string, packets: Uint8Array[]): Promise<void> {
  const inj = new TunDevice({ name: `${portDevice.slice(0, 11)}inj`, netns: ns });
  try {
    await inNetns(ns, 'tc', ['qdisc', 'add', 'dev', inj.name, 'ingress']);
    await inNetns(ns, 'tc', ['filter', 'add', 'dev', inj.name, 'ingress', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', portDevice]);
    const buf = new ArrayBuffer(2048 * packets.length);
    const u8 = new Uint8Array(buf);
    const offs = new Int32Array(packets.length);
    const lens = new Int32Array(packets.length);
    packets.forEach((p, i) => { u8.set(p, i * 2048); offs[i] = i * 2048; lens[i] = p.length; });
    inj.writeBatch(buf, offs, lens, packets.length);
    await sleep(200);
  } finally {
    inj.close();
  }
}

function addrNum(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) >>> 0;
}

/** `tunroute serve` as an information-providing server on 1.1.1.1:80 inside `ns`; its access log path. */
export async function startServer(lab: Lab, ns: string, name: string, address = '1.1.1.1'): Promise<string> {
  const log = `${lab.dir}/${name}.access.log`;
  await spawnInfoServer(lab, ns, name, address, log);
  return log;
}

/** How late a TUN port's kernel drops may show in stats: the port reads its device's tx_dropped once every TX_DROPPED_EVERY_MS. */
export const TUN_DROPS_LAG_MS = TX_DROPPED_EVERY_MS + 200;

/** The router's /metrics text, read from its API socket. */
export async function scrapeMetrics(r: RouterProcess): Promise<string> {
  return (await run('curl', ['-sS', '--max-time', '3', '--unix-socket', r.socket, 'http://x/metrics'])).stdout;
}

/** The value of the one sample `name{labels}` (labels as written, in order) in a /metrics text, or NaN if absent. */
export function metricSample(text: string, name: string, labels = ''): number {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${esc(name)}${labels ? esc(`{${labels}}`) : ''} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** The nice of each thread of process `pid` (field 19 of proc_pid_stat(5)), the process's own thread first. */
export function threadNices(pid: number): number[] {
  const niceOf = (tid: string) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const tids = readdirSync(`/proc/${pid}/task`).filter((t) => t !== String(pid));
  return [niceOf(String(pid)), ...tids.map(niceOf)];
}
