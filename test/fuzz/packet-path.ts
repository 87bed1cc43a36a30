// Fuzz target: the whole packet path of a router with every feature on —
// source policy, the virtual-service NAT, RIP and BFD (triggers off), IP
// options, the router as a host, reassembly — over in-memory devices, four
// TUN ports and one Ethernet port. Each run hands one port a batch of
// generated items (packet-gen.ts) through `forwarder.receive(port, n)`;
// between batches an administrative action may block, unblock or drain a
// port, add or remove a route, make replies scarce or plentiful, or let
// reassembly time out.
//
// The oracle follows each packet down the router's decisions as RFC 791,
// 1122 and 1812 and the router's stated rules lay them out (ip-reference.ts,
// reassembly-reference.ts) and checks, per batch:
// - receive() never throws; every IPv4 packet the link hands on gets one
//   verdict, frames the link keeps (ARP, runts, not for us, link down) get
//   none; the ingress port's rx and drop counters say exactly that;
// - verdicts that depend on the packet alone are exact: port blocked, the
//   header checks, invalid and own sources, malformed options, the NAT's
//   refusals, a strict route through a router not named, link-layer
//   broadcasts not routed, martian destinations, what local delivery does
//   (reassembly pending/refused/whole, queries, UDP, TCP, other protocols);
//   those that depend on routes are among the possible ones (a source-route
//   failure only for a source-route hop, TTL expiry only for TTL ≤ 1, …);
// - every datagram written is valid IPv4 (length, header checksum, ≤ MTU,
//   TTL ≥ 1); on the Ethernet port in a frame from the port's MAC to the
//   configured neighbour's (a broadcast to the broadcast MAC);
// - a forwarded packet (found by the tag in its identification field)
//   leaves exactly as expected: TTL one less, options processed (Record
//   Route and Timestamp with the egress address and the time, a
//   source-route hop's new destination and recorded address), through the
//   NAT an address and the TCP/UDP checksum (still right if it was right),
//   nothing else changed; fragments carry exactly that, each at its offset,
//   later ones with only the copied options;
// - what the router makes is matched to the packet and verdict that made
//   it, byte for byte: echo, timestamp and mask replies (with the options
//   they return), TCP resets, ARP replies, ICMP errors (type and code from
//   the verdict, the Parameter Problem pointer, the next-hop MTU, the
//   quote, the source address of the port it leaves by, RFC 1812 §4.3.2.7);
//   when no route changed during the batch, the error or reply is there
//   exactly when a route back exists, and leaves by that route's port;
// - nothing the router makes is addressed to itself, a martian, an
//   attached broadcast or (but RIP) a multicast address; nothing is left
//   unexplained.
import fc from 'fast-check';
import { ApiServer } from '../../src/api/server.js';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { assembleDaemon, type Daemon } from '../../src/daemon/assemble.js';
import { silentLogger } from '../../src/daemon/log.js';
import { REASSEMBLY_CONTEXTS, REASSEMBLY_TIMEOUT_MS } from '../../src/dataplane/reassembly.js';
import { Drop, DROP_NAMES, DROP_REASON_COUNT } from '../../src/packet/drops.js';
import { RX_PACKETS } from '../../src/ports/counters.js';
import type { Port } from '../../src/ports/port.js';
import type { MemoryDevice } from '../support/memory-device.js';
import {
  copiedOptions, headerLength, isFragment, refArpReply, refErrorAllowed, refForwardOptions, refGratuitousArp,
  refIpv4Check, refOptions, refQueryReply, refResetDue, refSourceRouteHop, refTcpReset, refValidQuery, sourceRoutePending, V4,
  type Expected, type RefOptions,
} from './ip-reference.js';
import { batch, buildArpFrame, buildGroup, buildPacket, buildRawFrame, frameOf, type Batch } from './packet-gen.js';
import {
  BACKENDS, BROADCASTS, ETH_MAC, NEIGHBOUR_MAC, NETWORKS, OWN, PORT_MTUS, ROUTER_CONFIG, VIP, backendFor, isLinkLocal, isLocal,
  memoryDeviceFor,
} from './packet-router.js';
import { CONTEXTS, RefReassembly, TIMEOUT } from './reassembly-reference.js';
import { ip, ipText, put32, refChecksum, refL4ChecksumOk, u16, u32 } from './reference.js';
import type { FuzzTarget, TargetInstance } from './target.js';

export { ROUTER_CONFIG } from './packet-router.js';

class Failure extends Error {}
function expect(ok: boolean, what: () => string): asserts ok {
  if (!ok) throw new Failure(what());
}

const hex = (b: Uint8Array, n = 64): string => Buffer.from(b.subarray(0, n)).toString('hex');
const macText = (b: Uint8Array, o: number): string => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const isOwn = (a: number): boolean => OWN.has(a);
const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const DAY_MS = 86_400_000;
const CHECK_DROP = [-1, Drop.TRUNCATED, Drop.NOT_IPV4, Drop.BAD_IHL, Drop.BAD_TOTAL_LENGTH, Drop.BAD_CHECKSUM];
const ETH_ADDRESS = ip('10.0.14.1');
const NO_VERDICT = -2;

/** A datagram a device took (an Ethernet port's without its frame header). */
interface Out { port: Port; bytes: Uint8Array; claimed: boolean }
/** An ARP frame the Ethernet port sent. */
interface ArpOut { bytes: Uint8Array; claimed: boolean }

/** One receive slot: what the device handed in, the identification the harness wrote, the verdict. */
interface Slot {
  index: number;
  bytes: Uint8Array;
  id: number;
  /** The item is one of a fragment group's fragments. */
  grouped: boolean;
  verdict: number;
  linkGroup: boolean;
}

/** An ICMP error a packet may cause: what it says and the datagram it quotes (as the router had it then). */
interface ErrorDue {
  type: number;
  code: number;
  /** The second word; −1: a next-hop MTU (checked against the ports'). */
  param: number;
  quote: Uint8Array;
  /** Bytes of the quote the NAT rewrote and put back (the TCP/UDP checksum: the oracle does not model it). */
  free: number[];
}

/**
 * The datagram an error quotes: as it arrived — the router undoes the NAT's
 * rewrite of the destination (a backend's source it never changed here:
 * the oracle's packet keeps it) before it makes the error.
 */
function asArrived(st: Uint8Array, natIn: boolean): Uint8Array {
  if (!natIn) return st;
  const q = st.slice();
  put32(q, 16, VIP);
  return q;
}

/** Header checks every datagram the router writes must pass. */
function checkDatagram(w: Out): void {
  const b = w.bytes;
  const at = () => `port ${w.port.name}`;
  expect(b.length >= 20, () => `${at()}: wrote ${b.length} bytes, less than an IPv4 header`);
  expect(b[0]! >>> 4 === 4, () => `${at()}: wrote a non-IPv4 datagram ${hex(b)}`);
  const hl = headerLength(b);
  expect(hl >= 20 && hl <= b.length, () => `${at()}: bad header length ${hl} in ${hex(b)}`);
  expect(u16(b, 2) === b.length, () => `${at()}: total length ${u16(b, 2)} but ${b.length} bytes written: ${hex(b)}`);
  expect(refChecksum(b, 0, hl) === 0, () => `${at()}: bad header checksum: ${hex(b)}`);
  expect(b.length <= w.port.mtu, () => `${at()}: ${b.length} bytes over MTU ${w.port.mtu}`);
  expect(b[8]! >= 1, () => `${at()}: wrote TTL 0: ${hex(b)}`);
}

/** What the router itself sends goes to a host: not to itself, a martian, an attached broadcast or a group (protocols aside). */
function checkRouterMadeDestination(w: Out, broadcastOk: boolean, multicastOk: boolean): void {
  const dst = u32(w.bytes, 16), top = dst >>> 24;
  const what = () => `router-made datagram on ${w.port.name} to ${ipText(dst)} (${hex(w.bytes)})`;
  expect(!OWN.has(dst), () => `${what()}: addressed to the router itself`);
  expect(top !== 0 && top !== 127 && (top < 240 || (broadcastOk && dst === 0xffffffff)), () => `${what()}: a martian destination`);
  expect(!BROADCASTS.has(dst), () => `${what()}: to an attached subnet's broadcast address`);
  expect(multicastOk || top < 224 || top >= 240, () => `${what()}: to a multicast address`);
}

export class PacketPathHarness {
  readonly daemon: Daemon;
  readonly tally: Record<string, number> = {};
  fed = 0;
  private batchNo = 0;
  /** Verdicts by receive slot (NO_VERDICT: the forwarder never saw it), and whether it came in a link-layer group frame. */
  private readonly verdicts = new Int32Array(64);
  private readonly linkGroups = new Uint8Array(64);
  private verdictCount = 0;
  private readonly reassembly = new RefReassembly();
  /** The router's reassembly clock (a counter, as the reference's). */
  private reassemblyClock = 0;
  /**
   * Replies may be rate-limited in a batch that starts at or before this
   * time (Date.now() ms; Infinity while they are scarce). The limiter reads
   * the router's batch clock, whole milliseconds read once per batch: after
   * the limit is raised the bucket refills only once that clock has moved
   * on, and then by 1,000 tokens a millisecond, more than a batch can take.
   */
  private scarceUntil = -1;
  private fibChanges = 0;
  // The batch being checked.
  private ingress!: Port;
  private slots: Slot[] = [];
  private byId = new Map<number, Out[]>();
  private errors: Out[] = [];
  private resets: Out[] = [];
  private arps: ArpOut[] = [];
  private window: [number, number] = [0, 0];
  private fibStable = true;

  constructor() {
    expect(REASSEMBLY_CONTEXTS === CONTEXTS && REASSEMBLY_TIMEOUT_MS === TIMEOUT, () => 'the reassembly reference has other contexts or timeout than the router');
    const config = parseRouterConfig(ROUTER_CONFIG, '<fuzz>');
    this.daemon = assembleDaemon(config, silentLogger(), new ApiServer(), { openDevice: memoryDeviceFor });
    const router = this.daemon.router;
    // The reassembler's clock: a counter the reference keeps too, so which context is oldest is known.
    const r = router.path.reassembly as unknown as { now: () => number };
    expect(typeof r.now === 'function', () => 'the reassembler has no clock to set');
    r.now = () => ++this.reassemblyClock;
    router.start();
    router.onFibChange(() => { this.fibChanges++; });
    // Record each packet's verdict by its slot as the forwarder returns it.
    const fwd = router.path.forwarder;
    const process = fwd.process.bind(fwd);
    fwd.process = (port, off, len, linkGroup = false, word = 0) => {
      const r = process(port, off, len, linkGroup, word);
      const slot = (off - port.slotPacket(0)) / port.slotSize;
      this.verdicts[slot] = r;
      this.linkGroups[slot] = linkGroup ? 1 : 0;
      this.verdictCount++;
      return r;
    };
  }

  close(): void {
    this.daemon.router.stop();
  }

  private count(k: string, n = 1): void {
    this.tally[k] = (this.tally[k] ?? 0) + n;
  }

  /** Everything the devices took since the last call: datagrams (unframed) and ARP frames, the frames checked. */
  private drain(): { outs: Out[]; arps: ArpOut[] } {
    const outs: Out[] = [];
    const arps: ArpOut[] = [];
    for (const port of this.daemon.router.ports) {
      const d = port.device as MemoryDevice;
      for (const bytes of d.written) {
        if (!port.link) {
          outs.push({ port, bytes, claimed: false });
          continue;
        }
        const what = () => `frame on ${port.name} (${hex(bytes)})`;
        expect(bytes.length >= 14 && macText(bytes, 6) === macText(ETH_MAC, 0), () => `${what()}: not from the port's MAC`);
        const type = u16(bytes, 12);
        if (type === 0x0806) {
          arps.push({ bytes, claimed: false });
          continue;
        }
        expect(type === 0x0800, () => `${what()}: EtherType ${type.toString(16)}`);
        const packet = bytes.subarray(14);
        const dst = packet.length >= 20 ? u32(packet, 16) : 0;
        const broadcast = dst === 0xffffffff || dst === port.broadcast;
        expect(macText(bytes, 0) === (broadcast ? 'ff:ff:ff:ff:ff:ff' : macText(NEIGHBOUR_MAC, 0)),
          () => `${what()}: to ${ipText(dst)} but to MAC ${macText(bytes, 0)} (the only neighbour is ${macText(NEIGHBOUR_MAC, 0)})`);
        outs.push({ port, bytes: packet, claimed: false });
      }
      d.written.length = 0;
    }
    for (const w of outs) checkDatagram(w);
    return { outs, arps };
  }

  private yourDisc(src: number): number {
    const s = this.daemon.bfd.sessions().find((n) => n.peer === src);
    return s ? s.session.localDiscriminator : 0;
  }

  private adminAction(a: Batch['admin']): void {
    const router = this.daemon.router;
    const port = router.ports[a.port]!;
    try {
      switch (a.op) {
        case 'block': router.blockPort(port.name); break;
        case 'unblock': void router.unblockPort(port.name).catch(() => undefined); break;
        case 'drain': router.drainPort(port.name, 200); break;
        // Routes stay on TUN ports: on the Ethernet port an off-link next hop would wait for ARP.
        case 'route-add': router.addRoute({ prefix: ip('8.8.8.0'), len: 24, port: a.port % 4, nextHop: 0, metric: 5 }); break;
        case 'route-del': for (const r of router.rib.find((x) => x.source === 'api')) router.removeRoute(r.id); break;
        case 'tick': router.path.flows.tick(); break;
        case 'replies-scarce':
          router.path.server.setLimit({ rate: 20, burst: 3 });
          this.scarceUntil = Infinity;
          break;
        case 'replies-plenty':
          router.path.server.setLimit(ROUTER_CONFIG.replyRateLimit);
          if (this.scarceUntil === Infinity) this.scarceUntil = Date.now();
          break;
        case 'reassembly-timeout':
          this.reassemblyClock += TIMEOUT + 1;
          this.reassembly.advance(TIMEOUT + 1);
          break;
        default: break;
      }
      this.count(`admin:${a.op}`);
    } catch {
      this.count(`admin:${a.op}:refused`);
    }
  }

  /** What timers and administrative actions sent: RIP, BFD, gratuitous ARP — nothing else. */
  private checkUnsolicited(): void {
    const { outs, arps } = this.drain();
    for (const w of outs) this.checkProtocol(w);
    for (const a of arps) {
      expect(hex(a.bytes, 64) === hex(refGratuitousArp(ETH_MAC, ETH_ADDRESS)), () => `an ARP frame no one asked for: ${hex(a.bytes)}`);
      this.count('arp-gratuitous');
    }
  }

  /** Feed one batch and check everything above; throws a Failure on a broken invariant. */
  run(b: Batch): void {
    const router = this.daemon.router;
    this.checkUnsolicited();
    this.adminAction(b.admin);
    this.checkUnsolicited();

    const port = router.ports[b.ingress]!;
    this.ingress = port;
    const tagBase = 0x8000 | ((this.batchNo & 0x1ff) << 6);
    const slots: Slot[] = [];
    const add = (bytes: Uint8Array, id: number, grouped: boolean) => {
      if (slots.length < 64) slots.push({ index: slots.length, bytes, id, grouped, verdict: NO_VERDICT, linkGroup: false });
    };
    for (const it of b.items) {
      if (slots.length === 64) break;
      const tag = tagBase | slots.length;
      const seed = tag * 31 + slots.length;
      switch (it.kind) {
        case 'packet': {
          const p = buildPacket(it, tag, (src) => this.yourDisc(src));
          add(port.link ? frameOf(p, it.link, seed) : p, tag, false);
          break;
        }
        case 'group':
          for (const f of buildGroup(it, tag, (src) => this.yourDisc(src))) add(port.link ? frameOf(f, it.link, seed) : f, tag, true);
          break;
        case 'arp': add(buildArpFrame(it, seed), tag, false); break;
        case 'frame': add(buildRawFrame(it), tag, false); break;
      }
    }
    const bytes = router.arena.bytes;
    const linkHeader = port.link ? 14 : 0;
    const room = port.slotSize - 64 + linkHeader;
    for (const s of slots) {
      if (s.bytes.length > room) s.bytes = s.bytes.subarray(0, room);
      bytes.set(s.bytes, port.slotPacket(s.index) - linkHeader);
      port.rxLengths[s.index] = s.bytes.length;
      s.bytes = s.bytes.slice();
    }
    const n = slots.length;
    this.verdicts.fill(NO_VERDICT);
    this.verdictCount = 0;
    const rxBefore = port.counters.values[RX_PACKETS]!;
    const dropsBefore = Float64Array.from({ length: DROP_REASON_COUNT }, (_, r) => port.counters.dropCount(r));
    const suppressedBefore = router.path.server.suppressed;
    const fibBefore = this.fibChanges;
    const t0 = Date.now();
    router.path.forwarder.receive(port, n);
    const t1 = Date.now();
    this.fed += n;
    this.window = [t0, t1];
    this.fibStable = this.fibChanges === fibBefore;

    // The counters agree with the verdicts.
    const drops = new Float64Array(DROP_REASON_COUNT);
    let limited = 0;
    for (const s of slots) {
      s.verdict = this.verdicts[s.index]!;
      s.linkGroup = this.linkGroups[s.index] === 1;
      const r = s.verdict;
      expect(r === NO_VERDICT || r === -1 || (Number.isInteger(r) && r >= 0 && r < DROP_REASON_COUNT), () => `slot ${s.index}: verdict ${r} is no drop reason`);
      if (r >= 0) drops[r]! += 1;
      if (r === Drop.REPLY_RATE_LIMITED) limited++;
      if (r !== NO_VERDICT) this.count(r < 0 ? 'forwarded-or-consumed' : `drop:${DROP_NAMES[r]}`);
    }
    // Through PortCounters: where the drop counters sit among the port's values is its business (the offload counters came before them).
    const rxMoved = port.counters.values[RX_PACKETS]! - rxBefore;
    expect(rxMoved === this.verdictCount, () => `rx counter moved by ${rxMoved}, ${this.verdictCount} packets seen`);
    for (let r = 0; r < DROP_REASON_COUNT; r++) {
      if (r === Drop.TX_ERROR) continue;
      const moved = port.counters.dropCount(r) - dropsBefore[r]!;
      expect(moved === drops[r], () => `drop counter ${DROP_NAMES[r]} moved by ${moved}, verdicts say ${drops[r]}`);
    }
    expect(router.path.server.suppressed - suppressedBefore === limited, () => `the reply limiter suppressed ${router.path.server.suppressed - suppressedBefore}, verdicts say ${limited}`);

    // What came out, by what made it.
    const { outs, arps } = this.drain();
    this.byId = new Map();
    this.errors = [];
    this.resets = [];
    this.arps = arps;
    const protocol: Out[] = [];
    for (const w of outs) {
      const id = u16(w.bytes, 4);
      if (id !== 0) {
        let list = this.byId.get(id);
        if (!list) this.byId.set(id, (list = []));
        list.push(w);
      } else if (w.bytes[9] === 1) this.errors.push(w);
      else if (w.bytes[9] === 6) this.resets.push(w);
      else protocol.push(w);
    }
    this.slots = slots;
    for (const s of slots) this.checkSlot(s);

    // Nothing unexplained.
    for (const [id, list] of this.byId) {
      for (const w of list) {
        if (w.claimed) continue;
        const s = slots.find((x) => x.id === id);
        throw new Failure(`${w.port.name} sent ${hex(w.bytes)} with identification ${id.toString(16)}, which no packet's verdict explains` +
          (s ? ` (slot ${s.index}: verdict ${this.verdictName(s.verdict)}, in ${hex(s.bytes)})` : ''));
      }
    }
    for (const w of this.errors) {
      expect(w.claimed, () => `an ICMP message no packet explains, on ${w.port.name}: ${hex(w.bytes, 100)}${this.quoteOwner(w)}`);
    }
    for (const w of this.resets) expect(w.claimed, () => `a TCP segment no packet explains, on ${w.port.name}: ${hex(w.bytes)}`);
    for (const a of this.arps) expect(a.claimed, () => `an ARP frame no frame explains: ${hex(a.bytes)}`);
    for (const w of protocol) this.checkProtocol(w);
    this.batchNo++;
  }

  private verdictName(v: number): string {
    return v === NO_VERDICT ? 'none' : v < 0 ? 'forwarded/consumed' : DROP_NAMES[v]!;
  }

  private quoteOwner(w: Out): string {
    if (w.bytes.length < 48) return '';
    const s = this.slots.find((x) => x.id === u16(w.bytes, 32));
    return s ? ` (it quotes slot ${s.index}: verdict ${this.verdictName(s.verdict)}, ${hex(s.bytes)})` : '';
  }

  // ---- one slot ----

  private checkSlot(s: Slot): void {
    const port = this.ingress;
    const link = port.link;
    const what = () => `slot ${s.index} on ${port.name} (${hex(s.bytes, 80)})`;
    if (!link) {
      expect(s.verdict !== NO_VERDICT, () => `${what()}: the forwarder never saw it`);
      this.checkIp(s, s.bytes, what);
      return;
    }
    // The link layer: what it hands on, and what it answers itself.
    const f = s.bytes;
    const up = link.isUp;
    expect(up === (port.state !== 'blocked' && port.state !== 'down'), () => `port ${port.name} is ${port.state} but its link is ${up ? 'up' : 'down'}`);
    let kind = 'kept';
    if (f.length >= 14 && up) {
      const group = (f[0]! & 1) === 1;
      const ours = macText(f, 0) === macText(ETH_MAC, 0);
      const badSrc = (f[6]! & 1) === 1 || macText(f, 6) === macText(ETH_MAC, 0);
      if ((group || ours) && !badSrc) {
        const type = u16(f, 12);
        if (type === 0x0800) kind = group ? 'ipv4-group' : 'ipv4';
        else if (type === 0x0806) kind = 'arp';
      }
    }
    this.count(`link:${kind}`);
    if (kind === 'ipv4' || kind === 'ipv4-group') {
      expect(s.verdict !== NO_VERDICT, () => `${what()}: an IPv4 frame for the router, but the forwarder never saw it`);
      expect(s.linkGroup === (kind === 'ipv4-group'), () => `${what()}: came in a ${kind === 'ipv4' ? 'unicast' : 'group'} frame, the forwarder was told otherwise`);
      this.checkIp(s, f.subarray(14), what);
      return;
    }
    expect(s.verdict === NO_VERDICT, () => `${what()}: the link should have kept it (${kind}), but the forwarder gave it verdict ${this.verdictName(s.verdict)}`);
    if (kind !== 'arp') return;
    const reply = refArpReply(f, ETH_MAC, ETH_ADDRESS);
    if (!reply) return;
    const a = this.arps.find((x) => !x.claimed && hex(x.bytes, 64) === hex(reply, 64));
    expect(a !== undefined, () => `${what()}: an ARP request for ${ipText(ETH_ADDRESS)}; expected the reply ${hex(reply)}, the port sent ${this.arps.map((x) => hex(x.bytes)).join(', ') || 'nothing'}`);
    a.claimed = true;
    this.count('arp-reply');
  }

  /** The router's decisions for one IPv4 packet, in its order (forwarder.ts). */
  private checkIp(s: Slot, p: Uint8Array, what: () => string): void {
    const port = this.ingress;
    if (port.state === 'blocked' || port.state === 'down') return this.expectDrop(s, Drop.PORT_BLOCKED, null, what);
    const check = refIpv4Check(p);
    if (check !== V4.OK) return this.expectDrop(s, CHECK_DROP[check]!, null, what);
    const total = u16(p, 2), hl = headerLength(p);
    // The packet as the router has it at each step.
    const st = p.slice(0, total);
    const src = u32(st, 12);
    const sourceDrop = this.sourceDrop(src);
    if (sourceDrop >= 0) return this.expectDrop(s, sourceDrop, null, what);
    const o = hl > 20 ? refOptions(st) : null;
    if (o && !o.ok) return this.expectDrop(s, Drop.BAD_OPTIONS, { type: 12, code: 0, param: (o.problem << 24) >>> 0, quote: st.slice(), free: [] }, what);

    // The NAT: to the service address, the destination becomes the backend the source goes to.
    const proto = st[9]!;
    const l4 = proto === 6 || proto === 17;
    const l4Sum = proto === 6 ? [hl + 16, hl + 17] : [hl + 6, hl + 7];
    const first = (u16(st, 6) & 0x1fff) === 0;
    const carriesPorts = first && total - hl >= (proto === 6 ? 20 : 8);
    let natIn = false;
    if (l4 && u32(st, 16) === VIP) {
      if (!first) return this.expectDrop(s, Drop.NAT_NO_FLOW, null, what);
      if (!carriesPorts) return this.expectDrop(s, Drop.TRUNCATED, null, what);
      put32(st, 16, backendFor(src));
      natIn = true;
    }
    // Back from a backend: to the VIP if the flow is known (the oracle cannot tell, so either).
    const mayNatOut = l4 && carriesPorts && BACKENDS.includes(src);
    const free = natIn || mayNatOut ? l4Sum : [];

    let dst = u32(st, 16);
    let hop = false;
    if (isLocal(dst)) {
      if (!(o && sourceRoutePending(st, o) && OWN.has(dst) && (hop = refSourceRouteHop(st, o, isOwn)))) return this.deliver(s, st, o, what);
      dst = u32(st, 16);
    } else if (o && o.sr !== -1 && o.strict) {
      return this.expectDrop(s, Drop.STRICT_ROUTE_NOT_OURS, { type: 12, code: 0, param: (16 << 24) >>> 0, quote: asArrived(st, natIn), free }, what);
    }
    if (s.linkGroup) return this.expectDrop(s, Drop.LINK_BROADCAST_NOT_ROUTED, null, what);
    if (src === 0 || isLinkLocal(src)) return this.expectDrop(s, Drop.MARTIAN_SOURCE, null, what);
    const top = dst >>> 24;
    if (top >= 224 && top < 240) return this.expectDrop(s, Drop.MULTICAST_NOT_ROUTED, null, what);
    if (top === 0 || top === 127 || top >= 240 || isLinkLocal(dst) || NETWORKS.has(dst)) return this.expectDrop(s, Drop.MARTIAN_DESTINATION, null, what);
    // A draining port refuses new connections from its side: a bare SYN (TCP, first fragment, flags byte present).
    const synOnly = proto === 6 && first && total - hl >= 14 && (st[hl + 13]! & 0x12) === 0x02;
    if (port.state === 'draining' && synOnly) return this.expectDrop(s, Drop.PORT_DRAINING, null, what);
    this.forwardStage(s, p.subarray(0, total), st, o, hop, natIn, mayNatOut, free, what);
  }

  /** RFC 1812 §4.2.2.11, §5.3.7: sources no packet may carry; the router's own (forged) counted apart. */
  private sourceDrop(src: number): number {
    const top = src >>> 24;
    if (top === 127 || top >= 224 || (top === 0 && src !== 0)) return Drop.MARTIAN_SOURCE;
    if (OWN.has(src)) return Drop.OWN_SOURCE;
    if (BROADCASTS.has(src) || NETWORKS.has(src)) return Drop.MARTIAN_SOURCE;
    return -1;
  }

  /** A verdict that is exactly `reason`; nothing sent but the error it may cause. */
  private expectDrop(s: Slot, reason: number, error: ErrorDue | null, what: () => string): void {
    expect(s.verdict === reason, () => `${what()}: verdict ${this.verdictName(s.verdict)}, expected ${DROP_NAMES[reason]}`);
    if (error) this.errorDue(s, error, what);
  }

  /** The routing-dependent end: forwarded exactly as expected, or dropped for a reason that fits. */
  private forwardStage(s: Slot, input: Uint8Array, st: Uint8Array, o: RefOptions | null, hop: boolean, natIn: boolean, mayNatOut: boolean, free: number[], what: () => string): void {
    const v = s.verdict;
    const ttl = st[8]!, total = st.length, df = (st[6]! & 0x40) !== 0;
    const quote = (type: number, code: number, param: number): ErrorDue => ({ type, code, param, quote: asArrived(st, natIn), free });
    if (v === -1) {
      const outs = this.claimById(s.id);
      expect(ttl > 1, () => `${what()}: TTL ${ttl}, forwarded`);
      expect(outs.length > 0, () => `${what()}: reported forwarded, but nothing left the router`);
      const egress = outs[0]!.port;
      expect(!df || total <= egress.mtu, () => `${what()}: DF and ${total} bytes, forwarded over MTU ${egress.mtu}`);
      const e = st.slice();
      e[8] = ttl - 1;
      const natOut = mayNatOut && u32(outs[0]!.bytes, 12) === VIP;
      if (natOut) put32(e, 12, VIP);
      const times = o ? refForwardOptions(e, o, egress.address, hop, isOwn) : [];
      const joined = this.checkCarried(outs, { bytes: e, times, skip: natIn || natOut ? free : [] }, () => `${what()}: forwarded`);
      this.count(outs.length > 1 ? 'fragmented' : 'forwarded');
      if (o) this.count('forwarded:options');
      if (hop) this.count('forwarded:source-route-hop');
      if (natIn || natOut) this.checkNatChecksum(input, joined, what);
      return;
    }
    switch (v) {
      case Drop.SOURCE_ROUTE_FAILED:
        expect(hop, () => `${what()}: source route failed, but it was no source-route hop`);
        this.errorDue(s, quote(3, 5, 0), what);
        break;
      case Drop.NO_ROUTE:
        expect(!hop, () => `${what()}: a source-route hop without a route is a source route failed`);
        this.errorDue(s, quote(3, 0, 0), what);
        break;
      case Drop.TTL_EXPIRED:
        expect(ttl <= 1, () => `${what()}: TTL ${ttl}, but expired`);
        this.errorDue(s, quote(11, 0, 0), what);
        break;
      case Drop.FRAG_NEEDED:
        expect(df && total > Math.min(...PORT_MTUS), () => `${what()}: fragmentation needed for ${total} bytes${df ? '' : ' without DF'}`);
        this.errorDue(s, quote(3, 4, -1), what);
        break;
      case Drop.FRAG_FAILED:
      case Drop.PORT_BLOCKED:
        break;
      default:
        throw new Failure(`${what()}: verdict ${this.verdictName(v)} for a packet to forward`);
    }
    expect(ttl > 1 || v === Drop.TTL_EXPIRED || v === Drop.NO_ROUTE || v === Drop.SOURCE_ROUTE_FAILED, () => `${what()}: TTL ${ttl}, verdict ${this.verdictName(v)}`);
    expect(this.claimById(s.id).length === 0, () => `${what()}: dropped (${this.verdictName(v)}) but also sent`);
  }

  /** Through the NAT: a TCP/UDP checksum right on the way in (`input`) is right on the way out (a UDP checksum of 0 stays 0). */
  private checkNatChecksum(input: Uint8Array, joined: Uint8Array, what: () => string): void {
    const proto = input[9]!, hl = headerLength(input);
    if ((u16(input, 6) & 0x3fff) !== 0) return;
    const seg = input.length - hl;
    const udpNone = proto === 17 && u16(input, hl + 6) === 0;
    const cover = proto === 17 ? u16(input, hl + 4) : seg;
    const okIn = cover >= (proto === 6 ? 20 : 8) && cover <= seg && refL4ChecksumOk(input, hl, cover, u32(input, 12), u32(input, 16), proto);
    if (udpNone) expect(u16(joined, hl + 6) === 0, () => `${what()}: UDP without checksum got one through the NAT`);
    else if (okIn) {
      expect(refL4ChecksumOk(joined, hl, cover, u32(joined, 12), u32(joined, 16), proto), () => `${what()}: L4 checksum right on the way in, wrong after the NAT: ${hex(joined)}`);
      this.count('nat-checksum-verified');
    }
  }

  // ---- for the router itself ----

  /** `o`: the options as the packet arrived (the router acts on those offsets). */
  private deliver(s: Slot, st: Uint8Array, o: RefOptions | null, what: () => string): void {
    if (isFragment(st)) {
      if (!OWN.has(u32(st, 16))) return this.expectDrop(s, Drop.LOCAL_UNHANDLED, null, what);
      const r = this.reassembly.add(st);
      if (r.result === 'pending') {
        expect(s.verdict === -1, () => `${what()}: a fragment kept for reassembly, verdict ${this.verdictName(s.verdict)}`);
        this.count('reassembly:pending');
        return;
      }
      if (r.result === 'invalid') return this.expectDrop(s, Drop.REASSEMBLY_FAILED, null, what);
      this.count('reassembly:whole');
      const d = r.datagram;
      const wo = headerLength(d) > 20 ? refOptions(d) : null;
      if (wo && !wo.ok) return this.expectDrop(s, Drop.BAD_OPTIONS, null, what);
      return this.deliverWhole(s, d, wo, true, () => `${what()}, completing ${hex(d, 48)}… (${d.length} bytes)`);
    }
    this.deliverWhole(s, st, o, false, what);
  }

  private deliverWhole(s: Slot, d: Uint8Array, o: RefOptions | null, reassembled: boolean, what: () => string): void {
    const hl = headerLength(d), dst = u32(d, 16), own = OWN.has(dst);
    switch (d[9]) {
      case 1:
        return this.query(s, d, o, reassembled, what);
      case 17: {
        if (d.length - hl < 8) return this.expectDrop(s, Drop.TRUNCATED, null, what);
        const dport = u16(d, hl + 2);
        if (dport === 520 || dport === 3784) {
          const ok = dport === 520 ? [-1, Drop.RIP_INVALID] : [-1, Drop.BFD_INVALID, Drop.LOCAL_UNHANDLED];
          expect(ok.includes(s.verdict), () => `${what()}: to ${dport === 520 ? 'RIP' : 'BFD'}, verdict ${this.verdictName(s.verdict)}`);
          if (s.verdict === -1) this.count('consumed');
          return;
        }
        return this.expectDrop(s, Drop.LOCAL_UNHANDLED, own ? { type: 3, code: 3, param: 0, quote: d, free: [] } : null, what);
      }
      case 6:
        if (!own) return this.expectDrop(s, Drop.LOCAL_UNHANDLED, null, what);
        return this.reset(s, d, what);
      default:
        return this.expectDrop(s, Drop.LOCAL_UNHANDLED, own ? { type: 3, code: 2, param: 0, quote: d, free: [] } : null, what);
    }
  }

  /** The batch began (window[0], read before receive()) while replies were scarce, or in the same millisecond as they stopped being. */
  private repliesMayBeLimited(): boolean {
    return this.window[0] <= this.scarceUntil;
  }

  /** An answer the server sends may be limited, unroutable, refused by the port; otherwise it must be there. */
  private answered(s: Slot, replyDst: number, broadcastOnIngress: boolean, what: () => string): boolean {
    const v = s.verdict;
    if (v === Drop.REPLY_RATE_LIMITED) {
      expect(this.repliesMayBeLimited(), () => `${what()}: reply rate-limited, but the limit is a million a second`);
      return false;
    }
    if (v === Drop.NO_ROUTE) {
      expect(!broadcastOnIngress && (!this.fibStable || this.daemon.router.path.output.portFor(replyDst) === null),
        () => `${what()}: no route for the answer to ${ipText(replyDst)}, but there is one`);
      return false;
    }
    if (v === Drop.PORT_BLOCKED || v === Drop.FRAG_FAILED) return false;
    expect(v === -1, () => `${what()}: verdict ${this.verdictName(v)} for a packet the router answers`);
    return true;
  }

  private query(s: Slot, d: Uint8Array, o: RefOptions | null, reassembled: boolean, what: () => string): void {
    const hl = headerLength(d), len = d.length - hl;
    if (len < 8) return this.expectDrop(s, Drop.TRUNCATED, null, what);
    const type = d[hl]!, src = u32(d, 12), unicast = OWN.has(u32(d, 16));
    if (type !== 8 && type !== 13 && type !== 17) return this.expectDrop(s, Drop.LOCAL_UNHANDLED, null, what);
    if (type !== 17 && (!unicast || src === 0)) return this.expectDrop(s, Drop.LOCAL_UNHANDLED, null, what);
    if (!refValidQuery(d)) return this.expectDrop(s, Drop.LOCAL_UNHANDLED, null, what);
    const c = { unicast, ingressMask: maskOf(this.ingress.prefixLen), isOwn };
    // Where the reply goes before it is routed (the reference, with any egress: the destination does not depend on it).
    const unrouted = refQueryReply(d, o, c, 0).bytes;
    const replyDst = u32(unrouted, 16);
    // A reversed source route must lead back to a host (not a broadcast, group, martian or the router itself).
    if (src !== 0 && (replyDst === 0 || this.sourceDrop(replyDst) >= 0)) {
      const ok = s.verdict === Drop.SOURCE_ROUTE_FAILED || (s.verdict === Drop.REPLY_RATE_LIMITED && this.repliesMayBeLimited());
      expect(ok, () => `${what()}: the reply would go to ${ipText(replyDst)}, verdict ${this.verdictName(s.verdict)}`);
      this.count('reply:no-host-to-return-to');
      return;
    }
    if (!this.answered(s, replyDst, src === 0, what)) return;
    const outs = this.claimDatagram(u16(d, 4), unrouted.length - headerLength(unrouted));
    expect(outs.length > 0, () => `${what()}: answered, but no reply left the router`);
    const egress = outs[0]!.port;
    if (src === 0) expect(egress === this.ingress, () => `${what()}: the reply to a requester without an address left by ${egress.name}, not the port it asked on`);
    else if (this.fibStable) {
      const route = this.daemon.router.path.output.portFor(replyDst);
      expect(route === egress, () => `${what()}: the reply to ${ipText(replyDst)} left by ${egress.name}, the route says ${route?.name ?? 'none'}`);
    }
    const exp = refQueryReply(d, o, c, egress.address);
    const joined = this.checkCarried(outs, exp, () => `${what()}: the reply`);
    expect(refChecksum(joined, hl, joined.length - hl) === 0, () => `${what()}: the reply's ICMP checksum is wrong: ${hex(joined)}`);
    for (const w of outs) checkRouterMadeDestination(w, src === 0, false);
    this.count(`reply:${type === 8 ? 'echo' : type === 13 ? 'timestamp' : 'mask'}`);
    if (hl > 20) this.count('reply:with-options');
    if (reassembled) this.count('reply:reassembled');
    if (outs.length > 1) this.count('reply:fragmented');
  }

  private reset(s: Slot, d: Uint8Array, what: () => string): void {
    if (!refResetDue(d)) return this.expectDrop(s, Drop.LOCAL_UNHANDLED, null, what);
    const src = u32(d, 12);
    if (!this.answered(s, src, false, what)) return;
    const want = refTcpReset(d);
    const w = this.resets.find((x) => !x.claimed && hex(x.bytes) === hex(want));
    expect(w !== undefined, () => `${what()}: TCP to the router; expected the reset ${hex(want)}, sent: ${this.resets.filter((x) => !x.claimed).map((x) => hex(x.bytes)).join(', ') || 'none'}`);
    w.claimed = true;
    if (this.fibStable) {
      const route = this.daemon.router.path.output.portFor(src);
      expect(route === w.port, () => `${what()}: the reset left by ${w.port.name}, the route to ${ipText(src)} says ${route?.name ?? 'none'}`);
    }
    checkRouterMadeDestination(w, false, false);
    this.count('tcp-reset');
  }

  // ---- what the router makes about a packet ----

  /**
   * An error the packet may cause: sent exactly when RFC 1812 §4.3.2.7
   * allows it and (routes unchanged during the batch) a route back exists
   * on a port that is not mute; then exactly as built.
   */
  private errorDue(s: Slot, e: ErrorDue, what: () => string): void {
    const q = e.quote;
    const qsrc = u32(q, 12);
    const allowed = refErrorAllowed(q, this.ingress.broadcast);
    const id = u16(q, 4);
    const found = this.errors.find((w) => !w.claimed && w.bytes.length >= 28 + 20 && u16(w.bytes, 32) === id && w.bytes[20] === e.type && w.bytes[21] === e.code);
    const label = `icmp:${e.type}/${e.code}`;
    if (!found) {
      if (allowed && this.fibStable) {
        const route = this.daemon.router.path.output.portFor(qsrc);
        expect(route === null || route.muted, () => `${what()}: ICMP ${e.type}/${e.code} due (to ${ipText(qsrc)} by ${route?.name}), none sent`);
      }
      return;
    }
    const w = found;
    const b = w.bytes;
    const ewhat = () => `${what()}: its ICMP ${e.type}/${e.code} on ${w.port.name} (${hex(b, 100)})`;
    expect(allowed, () => `${ewhat()}: RFC 1812 §4.3.2.7 forbids an error about this datagram`);
    const qlen = Math.min(q.length, 548);
    expect(b.length === 28 + qlen, () => `${ewhat()}: ${b.length} bytes, expected ${28 + qlen} (quoting ${qlen})`);
    expect(b[0] === 0x45 && b[1] === 0xc0 && u16(b, 4) === 0 && u16(b, 6) === 0 && b[8] === 64 && b[9] === 1,
      () => `${ewhat()}: header not plain IPv4, TOS 0xc0, id 0, no flags, TTL 64`);
    expect(u32(b, 12) === w.port.address, () => `${ewhat()}: from ${ipText(u32(b, 12))}, not the address of the port it left by (${ipText(w.port.address)})`);
    expect(u32(b, 16) === qsrc, () => `${ewhat()}: to ${ipText(u32(b, 16))}, not the quoted source`);
    if (this.fibStable) {
      const route = this.daemon.router.path.output.portFor(qsrc);
      expect(route === w.port, () => `${ewhat()}: left by ${w.port.name}, the route to ${ipText(qsrc)} says ${route?.name ?? 'none'}`);
    }
    expect(refChecksum(b, 20, b.length - 20) === 0, () => `${ewhat()}: bad ICMP checksum`);
    if (e.param >= 0) expect(u32(b, 24) === e.param, () => `${ewhat()}: second word ${u32(b, 24).toString(16)}, expected ${e.param.toString(16)}`);
    else {
      const mtu = u16(b, 26);
      expect(u16(b, 24) === 0 && PORT_MTUS.includes(mtu) && mtu < q.length, () => `${ewhat()}: Fragmentation Needed with next-hop MTU ${mtu} for ${q.length} bytes`);
    }
    const quoted = b.subarray(28);
    expect(refChecksum(quoted, 0, headerLength(q)) === 0, () => `${ewhat()}: the quoted header's checksum is wrong`);
    for (let k = 0; k < qlen; k++) {
      if (k === 10 || k === 11 || e.free.includes(k)) continue;
      expect(quoted[k] === q[k], () => `${ewhat()}: quoted byte ${k} is ${quoted[k]}, the datagram had ${q[k]} (${hex(q, 64)})`);
    }
    checkRouterMadeDestination(w, false, false);
    w.claimed = true;
    this.count(label);
  }

  private claimById(id: number): Out[] {
    const list = (this.byId.get(id) ?? []).filter((w) => !w.claimed);
    for (const w of list) w.claimed = true;
    return list;
  }

  /**
   * One datagram of `payload` bytes (whole or in fragments) with this
   * identification, the first sent: a fragment group may complete twice in
   * a batch (a duplicate first piece starts the datagram again), and both
   * replies carry the request's identification.
   */
  private claimDatagram(id: number, payload: number): Out[] {
    const list: Out[] = [];
    let carried = 0;
    for (const w of this.byId.get(id) ?? []) {
      if (w.claimed) continue;
      if (list.length > 0 && carried >= payload) break;
      w.claimed = true;
      list.push(w);
      carried += w.bytes.length - headerLength(w.bytes);
    }
    return list;
  }

  /**
   * The datagram `exp` left as `outs`: whole, or in fragments (RFC 791):
   * each at its offset on one port, data a multiple of 8 but in the last,
   * MF on all but the last (which keeps the datagram's), the first with
   * the whole header, later ones with the copied options only; header
   * fields as expected. Returns the datagram joined again.
   */
  private checkCarried(outs: Out[], exp: Expected, what: () => string): Uint8Array {
    const e = exp.bytes;
    const hl = headerLength(e), total = e.length, flags = u16(e, 6);
    const base = (flags & 0x1fff) * 8, payload = total - hl;
    const egress = outs[0]!.port;
    const joined = new Uint8Array(total);
    const covered = new Uint8Array(payload);
    const copied = copiedOptions(e);
    let first: Uint8Array | null = null;
    const frag = () => (outs.length > 1 ? ` (in ${outs.length} fragments: ${outs.map((w) => hex(w.bytes, 24)).join(', ')})` : '');
    if (outs.length > 1) expect((flags & 0x4000) === 0, () => `${what()}: DF set, but fragmented${frag()}`);
    for (const w of outs) {
      const b = w.bytes, fhl = headerLength(b), fw = u16(b, 6);
      const at = (fw & 0x1fff) * 8 - base, len = b.length - fhl;
      expect(w.port === egress, () => `${what()}: fragments on ${egress.name} and ${w.port.name}`);
      for (const k of [1, 4, 5, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19]) {
        expect(b[k] === e[k], () => `${what()}: header byte ${k} is ${b[k]}, expected ${e[k]}: sent ${hex(b, hl + 8)}, expected ${hex(e, hl + 8)}${frag()}`);
      }
      expect((fw & 0xc000) === (flags & 0xc000), () => `${what()}: reserved/DF flags ${(fw >>> 13).toString(2)}, expected ${(flags >>> 13).toString(2)}`);
      expect(at >= 0 && at + len <= payload, () => `${what()}: a fragment at ${at}+${len} outside the ${payload} bytes of payload${frag()}`);
      const last = at + len === payload;
      expect(last ? (fw & 0x2000) === (flags & 0x2000) : (fw & 0x2000) !== 0, () => `${what()}: MF ${(fw >>> 13) & 1} on the fragment at ${at}${frag()}`);
      expect(last || len % 8 === 0, () => `${what()}: a fragment of ${len} bytes before the end${frag()}`);
      if (at === 0) {
        expect(first === null, () => `${what()}: two first fragments${frag()}`);
        first = b;
        expect(fhl === hl, () => `${what()}: header of ${fhl} bytes, expected ${hl}${frag()}`);
      } else {
        const want = (copied.length + 3) & ~3;
        expect(fhl === 20 + want, () => `${what()}: a later fragment's header of ${fhl} bytes, the copied options take ${copied.length}${frag()}`);
        for (let k = 0; k < want; k++) {
          expect(b[20 + k] === (k < copied.length ? copied[k] : 0), () => `${what()}: a later fragment's options ${hex(b.subarray(20, fhl))}, expected the copied ${hex(Uint8Array.from(copied))}${frag()}`);
        }
      }
      for (let k = 0; k < len; k++) {
        expect(covered[at + k] === 0, () => `${what()}: fragments overlap at ${at + k}${frag()}`);
        covered[at + k] = 1;
      }
      joined.set(b.subarray(fhl), hl + at);
    }
    expect(first !== null && covered.every((c) => c === 1), () => `${what()}: the fragments do not cover the datagram${frag()}`);
    joined.set(first.subarray(0, hl));
    joined.set(e.subarray(2, 4), 2);
    joined.set(e.subarray(6, 8), 6);
    const skip = new Set([10, 11, ...exp.skip]);
    const [t0, t1] = this.window;
    const lo = t0 % DAY_MS, hi = t1 % DAY_MS;
    for (const t of exp.times) {
      const v = u32(joined, t);
      expect(lo <= hi ? v >= lo && v <= hi : v >= lo || v <= hi, () => `${what()}: time ${v} at byte ${t}, the clock said ${lo}…${hi} ms since midnight UT`);
      for (let k = 0; k < 4; k++) skip.add(t + k);
    }
    for (let k = 0; k < total; k++) {
      if (skip.has(k)) continue;
      expect(joined[k] === e[k], () => `${what()}: byte ${k} is ${joined[k]}, expected ${e[k]}: sent ${hex(joined, Math.min(total, k + 16))}, expected ${hex(e, Math.min(total, k + 16))}${frag()}`);
    }
    return joined;
  }

  /** UDP the router sends on its own (RIP, BFD): right length and checksum, from its address; RIP to 520 or the asker. */
  private checkProtocol(w: Out): void {
    const b = w.bytes;
    const hl = headerLength(b);
    const src = u32(b, 12);
    const what = () => `router-made datagram on ${w.port.name} (${hex(b, 64)})`;
    expect(OWN.has(src), () => `${what()}: source ${ipText(src)} is not the router's`);
    expect(b[9] === 17, () => `${what()}: protocol ${b[9]} from the router, unasked`);
    const len = b.length - hl;
    expect(len >= 8, () => `${what()}: UDP shorter than its header`);
    const ulen = u16(b, hl + 4);
    expect(ulen === len, () => `${what()}: UDP length ${ulen} in ${len} bytes`);
    expect(u16(b, hl + 6) !== 0 && refL4ChecksumOk(b, hl, len, src, u32(b, 16), 17), () => `${what()}: bad UDP checksum`);
    const sport = u16(b, hl), dport = u16(b, hl + 2);
    if (sport === 520) {
      // RIP: updates to 520; answers to a request go to the asker's port (RFC 2453 §3.9.1), whatever it is.
      checkRouterMadeDestination(w, false, u32(b, 16) === ip('224.0.0.9'));
      this.count(dport === 520 ? 'rip-sent' : 'rip-answer-to-other-port');
    } else {
      expect(dport === 3784, () => `${what()}: UDP from the router, neither RIP nor BFD`);
      expect(sport >= 49152 && b[8] === 255, () => `${what()}: BFD from port ${sport} with TTL ${b[8]} (RFC 5881: 49152–65535, TTL 255)`);
      checkRouterMadeDestination(w, false, false);
      this.count('bfd-sent');
    }
  }
}

export const packetPathTarget: FuzzTarget = {
  name: 'packet-path',
  description: 'batches of generated/mutated IPv4 and frames through forwarder.receive() of a router with policy, NAT, RIP, BFD, an Ethernet port',
  inputsPerRun: 32,
  runsPerChunk: 500,
  create(): TargetInstance {
    const h = new PacketPathHarness();
    return {
      property: fc.property(batch, (b) => {
        h.run(b);
        return true;
      }),
      inputs: () => h.fed,
      tally: () => h.tally,
      close: () => h.close(),
    };
  },
};
