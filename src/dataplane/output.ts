// The last step of the packet path: MTU check, fragmentation (RFC 791) and
// queueing on the egress port; plus the scratch space for packets the router
// builds itself, and the flush that hands every queue to the kernel.
//
// Offloads (wire/virtio-net.ts: each packet's offload word). What leaves an
// egress is what that egress takes:
//   - a super-packet whose segments fit the MTU goes whole to a device that
//     takes its kind (an offload TUN, an Ethernet port in offload mode);
//     otherwise it is cut here (gso.ts), as the kernel's software GSO would,
//     and a segment larger than the MTU (DF clear) is fragmented;
//   - a partial checksum stays partial for a device that takes it, and is
//     finished here for any other;
//   - at the flush, in-order TCP segments of one flow queued for an egress
//     that takes TCP super-packets (an offload TUN or Ethernet port) are
//     coalesced into super-packets (gro.ts): the receiving kernel takes
//     64 KB in one write instead of 45; so are the UDP datagrams of one
//     flow for an egress that takes UDP super-packets (USO).
import { HEADROOM, type PacketArena } from '../packet/arena.js';
import { Drop } from '../packet/drops.js';
import { fragmentIpv4 } from './fragment.js';
import { Coalesce, Coalescer, PASS } from './gro.js';
import { SegmentChecksum, gsoHeaderLength, segmentGso, segmentedSize } from './gso.js';
import {
  CHECKSUMS_FINISHED, COALESCED, COALESCED_SEGMENTS, SEGMENTED, SEGMENTS, TX_SUPER,
} from '../ports/counters.js';
import { TX_QUEUE, type Port } from '../ports/port.js';
import { NO_ROUTE, type FibLookup } from '../routing/fib.js';
import { finishTransportChecksum } from '../wire/checksum.js';
import { IpProto } from '../wire/ipv4.js';
import { OFFLOAD_PARTIAL, VirtioGso, offloadWord } from '../wire/virtio-net.js';

const MAX_FRAGMENTS = 64;
/** Arena bytes fragment() takes for a datagram of `len` bytes. */
const fragmentRoom = (len: number): number => len + MAX_FRAGMENTS * (64 + HEADROOM) + HEADROOM + 8;
/** More segments than this in one super-packet: refused (a gso_size no sender uses). */
export const MAX_SEGMENTS = 256;

export class Output {
  private readonly fragOffsets = new Int32Array(MAX_FRAGMENTS);
  private readonly fragLengths = new Int32Array(MAX_FRAGMENTS);
  private readonly segOffsets = new Int32Array(MAX_SEGMENTS);
  private readonly segLengths = new Int32Array(MAX_SEGMENTS);
  // Coalescing at the flush: the queue's IP packets and a copy of the queue.
  private readonly gro = new Coalescer(TX_QUEUE);
  private readonly groOff = new Int32Array(TX_QUEUE);
  private readonly groLen = new Int32Array(TX_QUEUE);
  private readonly groMark = new Uint8Array(TX_QUEUE);
  private readonly qOff = new Int32Array(TX_QUEUE);
  private readonly qLen = new Int32Array(TX_QUEUE);
  private readonly qWord = new Int32Array(TX_QUEUE);
  private readonly qVnet = new Int32Array(TX_QUEUE);
  /** Set by portFor(): the neighbour to send to (the route's gateway, or the destination itself). */
  nextHop = 0;

  constructor(
    readonly arena: PacketArena,
    readonly ports: readonly Port[],
    private readonly fib: FibLookup,
  ) {}

  /** Room in the arena for a locally built packet of `len` bytes. */
  scratch(len: number): number {
    let off = this.arena.scratch(len);
    if (off < 0) {
      this.flushAll();
      off = this.arena.scratch(len);
      if (off < 0) throw new RangeError(`packet of ${len} bytes does not fit the scratch ring`);
    }
    return off;
  }

  /**
   * Make sure the scratch ring has `bytes` free, flushing first if not, so
   * that what is written there next is not overwritten by a flush half-way
   * (segments of one super-packet are sent one by one, and sending one may
   * take scratch). False if the ring is smaller than that.
   */
  reserveScratch(bytes: number): boolean {
    if (this.arena.scratchFree() >= bytes) return true;
    this.flushAll();
    return this.arena.scratchFree() >= bytes;
  }

  /**
   * Send a datagram out of `port` toward `nextHop` (the neighbour on the
   * link), fragmenting it if it exceeds the MTU. Returns a Drop reason, or
   * -1 when sent (or held by the link while the next hop is resolved). The
   * caller has checked DF (for a super-packet: its segments, mtuVerdict).
   * `word`: the packet's offload word (0: an ordinary packet).
   */
  send(port: Port, off: number, len: number, nextHop: number, word = 0): number {
    if (port.muted) return Drop.PORT_BLOCKED;
    if (word !== 0) return this.sendOffload(port, off, len, nextHop, word);
    if (len <= port.mtu) {
      port.transmit(off, len, nextHop, 0);
      return -1;
    }
    return this.fragment(port, off, len, nextHop);
  }

  /**
   * The port the FIB sends `dst` out of, or null (for what the router
   * originates: its source address depends on it); `nextHop` then holds the
   * neighbour to send to.
   */
  portFor(dst: number): Port | null {
    const nh = this.fib.lookup(dst);
    if (nh === NO_ROUTE) return null;
    this.nextHop = this.fib.gatewayOf(nh) || dst;
    return this.ports[this.fib.portOf(nh)]!;
  }

  /** Queue and write at once (for timers: BFD, RIP — outside a receive batch). */
  sendNow(port: Port, off: number, len: number, nextHop: number): boolean {
    const ok = this.send(port, off, len, nextHop) < 0;
    this.flushAll();
    return ok;
  }

  flushAll(): void {
    const ports = this.ports;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if ((p.txTso4 || p.txUso4) && p.txCount > 1) this.coalesce(p);
      p.flush();
    }
    // Nothing queued refers to the scratch ring any more.
    this.arena.resetScratch();
  }

  /**
   * Finish the partial checksum of the IPv4 packet at (off, len) in place
   * (TCP or UDP, from the end of the IP header); counted on `port`. False if
   * the packet cannot hold it.
   */
  finishChecksum(port: Port, off: number, len: number): boolean {
    if (!finishTransportChecksum(this.arena.bytes, off, len)) return false;
    port.counters.values[CHECKSUMS_FINISHED]! += 1;
    return true;
  }

  private sendOffload(port: Port, off: number, len: number, nextHop: number, word: number): number {
    const kind = (word >>> 16) & ~VirtioGso.ECN & 0xff;
    if (kind === VirtioGso.NONE) {
      // A partial checksum: kept for a device that finishes it, else finished here.
      if (port.txCsum && len <= port.mtu) {
        port.transmit(off, len, nextHop, word);
        return -1;
      }
      if (!this.finishChecksum(port, off, len)) return Drop.BAD_OFFLOAD;
      return this.send(port, off, len, nextHop, 0);
    }
    const b = this.arena.bytes;
    const hlen = gsoHeaderLength(b, off, len, kind);
    const gsoSize = word & 0xffff;
    if (hlen < 0) return Drop.BAD_OFFLOAD;
    const whole = kind === VirtioGso.TCPV4 ? port.txTso4 : port.txUso4;
    // An Ethernet port holds packets for ARP in MTU-sized buffers: a super-packet it could hold goes cut,
    // as does one to a neighbour not resolved yet (its segments are held like a plain sender's).
    if (whole && hlen + gsoSize <= port.mtu && (port.link === null || (len > port.mtu && !port.link.wouldHold(nextHop)))) {
      port.transmit(off, len, nextHop, word);
      port.counters.values[TX_SUPER]! += 1;
      return -1;
    }
    return this.segment(port, off, len, nextHop, kind, gsoSize, hlen);
  }

  /** Cut a super-packet into segments in scratch and send each (fragmenting those larger than the MTU: DF was clear). */
  private segment(port: Port, off: number, len: number, nextHop: number, kind: number, gsoSize: number, hlen: number): number {
    const segLen = hlen + gsoSize;
    const n = Math.ceil((len - hlen) / gsoSize);
    if (n > MAX_SEGMENTS) return Drop.BAD_OFFLOAD;
    const fits = segLen <= port.mtu;
    // A device that finishes checksums gets partial ones: no pass over the payload here.
    const csum = fits && port.txCsum ? SegmentChecksum.PARTIAL : SegmentChecksum.FULL;
    const room = segmentedSize(len, hlen, gsoSize, HEADROOM);
    if (!this.reserveScratch(room + HEADROOM + 8 + (fits ? 0 : n * fragmentRoom(segLen)))) return Drop.BAD_OFFLOAD;
    const region = this.arena.scratch(room);
    const b = this.arena.bytes;
    const got = segmentGso(b, off, len, kind, gsoSize, b, region - HEADROOM, region + room, HEADROOM, csum, this.segOffsets, this.segLengths, 0, MAX_SEGMENTS);
    if (got < 0) return Drop.BAD_OFFLOAD;
    const c = port.counters.values;
    c[SEGMENTED]! += 1;
    c[SEGMENTS]! += got;
    const word = csum === SegmentChecksum.PARTIAL ? offloadWord(VirtioGso.NONE, 0) : 0;
    let drop = -1;
    for (let i = 0; i < got; i++) {
      const so = this.segOffsets[i]!, sl = this.segLengths[i]!;
      if (sl <= port.mtu) port.transmit(so, sl, nextHop, word);
      else {
        const d = this.fragment(port, so, sl, nextHop);
        if (d >= 0) drop = d;
      }
    }
    return drop;
  }

  /**
   * Coalesce the in-order TCP segments, and the UDP datagrams, of each flow
   * in `port`'s queue (an offload TUN or Ethernet port that takes such
   * super-packets) into super-packets, in place. Ordinary packets and
   * partial checksums take part (the kernel vouched for the latter's
   * bytes); everything keeps its order within its flow.
   */
  private coalesce(port: Port): void {
    const n = port.txCount;
    const ipAt = port.txIpOffset;
    const offs = port.txOffsets, lens = port.txLengths, words = port.txWords, vnet = port.txVnet;
    const b = this.arena.bytes;
    const kinds = (port.txTso4 ? Coalesce.TCP : 0) | (port.txUso4 ? Coalesce.UDP : 0);
    // First a look for two packets that could merge (a mix of other traffic: nothing to do).
    let candidates = 0;
    for (let i = 0; i < n && candidates < 2; i++) {
      const w = words[i]!;
      if (w !== 0 && w !== OFFLOAD_PARTIAL) continue;
      const proto = b[offs[i]! + ipAt + 9];
      if ((proto === IpProto.TCP && (kinds & Coalesce.TCP) !== 0) || (proto === IpProto.UDP && (kinds & Coalesce.UDP) !== 0)) candidates++;
    }
    if (candidates < 2) return;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const w = words[i]!;
      this.groOff[i] = offs[i]! + ipAt;
      this.groLen[i] = lens[i]! - ipAt;
      if (w === 0 || w === OFFLOAD_PARTIAL) {
        this.groMark[i] = w === 0 ? 0 : 1;
        bytes += lens[i]! + 32;
      } else {
        this.groMark[i] = PASS;
      }
    }
    const region = this.arena.scratch(bytes);
    if (region < 0) return;
    const gro = this.gro;
    const out = gro.coalesce(b, this.groOff, this.groLen, n, this.groMark, region, region + bytes, port.txFront, kinds);
    if (gro.merged === 0) return;
    this.qOff.set(offs.subarray(0, n));
    this.qLen.set(lens.subarray(0, n));
    this.qWord.set(words.subarray(0, n));
    this.qVnet.set(vnet.subarray(0, n));
    let made = 0;
    for (let k = 0; k < out; k++) {
      const i = gro.outInput[k]!;
      if (gro.outMerged[k] === 1) {
        port.requeueSuper(k, gro.outOffsets[k]!, gro.outLengths[k]!, offloadWord(gro.outKind[k]!, gro.outGso[k]!), this.qOff[i]!);
        made++;
      } else {
        offs[k] = this.qOff[i]!;
        lens[k] = this.qLen[i]!;
        words[k] = this.qWord[i]!;
        vnet[k] = this.qVnet[i]!;
      }
    }
    port.txCount = out;
    const c = port.counters.values;
    c[COALESCED]! += made;
    c[COALESCED_SEGMENTS]! += gro.merged + made;
    c[TX_SUPER]! += made;
  }

  private fragment(port: Port, off: number, len: number, nextHop: number): number {
    // Each fragment gets its own headroom (for the link header).
    const room = len + MAX_FRAGMENTS * (64 + HEADROOM);
    const out = this.scratch(room);
    const n = fragmentIpv4(this.arena.bytes, off, len, port.mtu, this.arena.bytes, out, room, this.fragOffsets, this.fragLengths, HEADROOM);
    if (n < 0) return Drop.FRAG_FAILED;
    for (let i = 0; i < n; i++) port.transmit(this.fragOffsets[i]!, this.fragLengths[i]!, nextHop, 0);
    return -1;
  }
}
