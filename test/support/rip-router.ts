// RIP plugged into a real Router whose ports are in-memory devices, with a
// fake clock and a fake BFD: packets handed to the packet path, what each
// port sent decoded, the log kept. Shared by the RIP protocol tests.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { Router } from '../../src/router/router.js';
import { formatAddress, formatPrefix, parseAddress } from '../../src/net/addr.js';
import type { BfdState, NeighbourLiveness, SessionChange } from '../../src/control/liveness.js';
import type { PortView as Port } from '../../src/control/protocol.js';
import { RIP_DISTANCE, RipProtocol } from '../../src/protocols/rip/rip.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { FakeClock } from './fake-clock.js';
import { MemoryDevice } from './memory-device.js';
import {
  RIP_ENTRY_LEN, RIP_HEADER_LEN, RIP_MULTICAST, RipCommand, RipView, maskLength, writeRipEntry, writeRipHeader,
} from '../../src/wire/rip.js';
import { UdpView, buildUdpDatagram } from '../../src/wire/udp.js';

export const A = parseAddress;

// ---------- test doubles ----------

export class FakeLiveness implements NeighbourLiveness {
  readonly states = new Map<string, BfdState>();
  readonly required: string[] = [];
  readonly released: string[] = [];
  private readonly listeners: ((c: SessionChange) => void)[] = [];
  require(port: Port, peer: number): void { this.required.push(`${port.name}/${formatAddress(peer)}`); }
  release(port: Port, peer: number): void { this.released.push(`${port.name}/${formatAddress(peer)}`); }
  state(port: Port, peer: number): BfdState | undefined { return this.states.get(`${port.name}/${formatAddress(peer)}`); }
  onChange(l: (c: SessionChange) => void): () => void { this.listeners.push(l); return () => undefined; }
  set(port: Port, peer: string, to: BfdState): void {
    const key = `${port.name}/${peer}`;
    const from = this.states.get(key) ?? 'Down';
    this.states.set(key, to);
    for (const l of this.listeners) l({ port, peer: A(peer), from, to, diagnostic: 'test' });
  }
}

export interface Sent {
  port: string; src: string; dst: string; ttl: number; tos: number; sport: number; dport: number;
  command: number; entries: { prefix: string; metric: number; nextHop: string }[];
  /** The RIP message as sent (UDP payload), and the whole IPv4 datagram (to hand to another router, or replay). */
  payload: Uint8Array;
  datagram: Uint8Array;
}

export function decode(port: string, b: Uint8Array): Sent {
  const ip = new Ipv4View().attach(b, 0, b.length);
  assert.equal(ip.validate(), 0, 'sent IPv4 header is valid');
  const udp = new UdpView().attach(b, ip.payloadOffset, ip.payloadLength);
  assert.ok(udp.checksumOk(ip.src, ip.dst), 'sent UDP checksum is valid');
  const rip = new RipView().attach(b, udp.off + 8, udp.length - 8);
  assert.equal(rip.validate(), 0, 'sent RIP packet is valid');
  const entries = [];
  for (let i = rip.firstRoute; i < rip.entryCount; i++) {
    entries.push({ prefix: rip.afi(i) === 0 ? 'whole-table' : formatPrefix(rip.address(i), maskLength(rip.mask(i))), metric: rip.metric(i), nextHop: formatAddress(rip.nextHop(i)) });
  }
  return {
    port, src: formatAddress(ip.src), dst: formatAddress(ip.dst), ttl: ip.ttl, tos: ip.tos, sport: udp.srcPort, dport: udp.dstPort, command: rip.command, entries,
    payload: b.slice(udp.off + 8, udp.off + udp.length),
    datagram: b,
  };
}

export const CONFIG = {
  router: 'r1',
  ports: [
    { name: 'lan', device: 'lan0', address: '10.0.1.1/24' },
    { name: 'w', device: 'w0', address: '10.0.12.1/24' },
    { name: 'e', device: 'e0', address: '10.0.13.1/24' },
    { name: 'q', device: 'q0', address: '10.0.14.1/24' },
    { name: 'b', device: 'b0', address: '10.0.15.1/24' },
  ],
  routes: [{ prefix: '172.16.0.0/16', port: 'lan', via: '10.0.1.9', metric: 3 }],
  rip: {
    ports: ['w', { port: 'e', cost: 2 }, { port: 'q', passive: true }, { port: 'b', bfd: true }],
    updateTime: 30, timeoutTime: 180, garbageTime: 120,
  },
};

export function setup(overrides: Record<string, unknown> = {}) {
  const config = parseRouterConfig({ ...CONFIG, ...overrides });
  return start(config);
}

/** A router with RIP on `config` (parsed), started at the fake clock's time. */
export function start(config: ReturnType<typeof parseRouterConfig>, clock = new FakeClock()) {
  const devices = new Map<string, MemoryDevice>();
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug', timestamp: false }, new Writable({ write(chunk, _e, cb) { logs.push(JSON.parse(String(chunk))); cb(); } }));
  const router = new Router(config, log, (p) => {
    const d = new MemoryDevice(p.device);
    devices.set(p.name, d);
    return d;
  }, clock);
  const liveness = new FakeLiveness();
  router.useLiveness(liveness);
  const rip = new RipProtocol(router.protocolContext('rip', RIP_DISTANCE), config.rip!);
  router.addPlugin(rip);
  router.start();
  const port = (name: string) => router.portByName(name);

  /** What each port sent since the last call, decoded. */
  const take = (name?: string): Sent[] => {
    const out: Sent[] = [];
    for (const [pn, d] of devices) {
      if (name && pn !== name) continue;
      for (const b of d.written.splice(0)) out.push(decode(pn, b));
    }
    return out;
  };
  /** Hand a datagram to the router as if it arrived on `name`. Returns the drop counts of the port after. */
  const inject = (name: string, datagram: Uint8Array) => {
    const p = port(name);
    router.arena.bytes.set(datagram, p.slotPacket(0));
    p.rxLengths[0] = datagram.length;
    router.path.forwarder.receive(p, 1);
  };
  const ribRoute = (prefix: string) => router.rib.routes().filter((r) => formatPrefix(r.prefix, r.len) === prefix);
  const ripRoute = (prefix: string) => ribRoute(prefix).find((r) => r.source === 'rip');
  /** Every RIP route in the RIB for `prefix` (one per neighbour that has an active route). */
  const ripRoutes = (prefix: string) => ribRoute(prefix).filter((r) => r.source === 'rip');
  /** The route the RIB selects for `prefix`. */
  const selected = (prefix: string) => ribRoute(prefix).find((r) => r.selected);
  /** RIP's route for `prefix` from `neighbour` (learned on the port whose subnet holds it). */
  const row = (prefix: string, neighbour: string) => {
    const [addr, len] = prefix.split('/');
    return [...rip.table.all()].find((r) => formatPrefix(r.prefix, r.len) === formatPrefix(A(addr!), Number(len)) && r.neighbour === A(neighbour));
  };
  const events = (event: string) => logs.filter((l) => l.event === event);
  return { router, rip, clock, liveness, devices, logs, port, take, inject, ribRoute, ripRoute, ripRoutes, selected, row, events };
}

/** A RIP datagram: IPv4 + UDP around a payload. */
export function datagram(src: string, dst: string, payload: Uint8Array, srcPort = 520, ttl = 1): Uint8Array {
  const b = new Uint8Array(28 + payload.length);
  b.set(payload, 28);
  buildUdpDatagram(b, 0, A(src), A(dst), srcPort, 520, payload.length, ttl, 0xc0);
  return b;
}

/** A Response payload: [prefix, metric, nextHop?]. */
export function response(entries: [string, number, string?][]): Uint8Array {
  const b = new Uint8Array(RIP_HEADER_LEN + entries.length * RIP_ENTRY_LEN);
  writeRipHeader(b, 0, RipCommand.RESPONSE);
  entries.forEach(([p, metric, nh], i) => {
    const [addr, len] = p.split('/');
    writeRipEntry(b, RIP_HEADER_LEN + i * RIP_ENTRY_LEN, A(addr!), Number(len), nh ? A(nh) : 0, metric);
  });
  return b;
}

export const MCAST = formatAddress(RIP_MULTICAST);
/** The metric last sent for `prefix` in `s`. */
export const metricOf = (s: Sent[], prefix: string) => s.flatMap((x) => x.entries).filter((e) => e.prefix === prefix).at(-1)?.metric;
export const responses = (s: Sent[]) => s.filter((x) => x.command === RipCommand.RESPONSE);

