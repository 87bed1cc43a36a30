// Receive-side coalescing in software: the consecutive in-order TCP/IPv4
// segments of one flow within one batch — and the UDP/IPv4 datagrams of one
// flow, for an egress that takes UDP super-packets (USO) — become one
// super-packet (GSO TCPV4 or UDP_L4, partial checksum; the caller writes
// the virtio-net header the kind and gso_size call for), so a batch of
// segments or datagrams leaves an offload port in a few writes instead of
// one each, and the receiving kernel takes it whole (and cuts it back into
// exactly the packets that came in).
//
// The TCP rules follow the kernel's GRO (tcp_gro_receive) and wireguard-go:
// only plain ACK or ACK|PSH segments with payload, no IP options, not
// fragments; same addresses, ports and ACK number; sequence numbers
// contiguous; same TCP header length and options, same window, TOS, TTL and
// DF; nothing after a segment with PSH or after one shorter than the first;
// at most 64 KB.
// UDP: no IP options, not fragments, a checksum (a datagram without one
// passes: segmentation would give it one); same addresses, ports, TOS, TTL
// and DF; nothing after a datagram shorter than the first; at most 64 KB and
// MAX_UDP_SEGMENTS datagrams.
// Both: IP identifications consecutive (the kernel's segmentation numbers
// the packets on from the first one's, so each gets its own back) — or, for
// atomic packets (DF set, not fragments), all the same, as Linux gives an
// unconnected IP_PMTUDISC_DO socket's datagrams (0), and as the kernel's own
// GRO takes them (inet_gro_flush's fixed ID). Those leave numbered on from
// the first one's: an atomic datagram's ID has no meaning (RFC 6864 §4.1).
// A fragmentable packet's does: one out of turn is never merged.
// A packet whose checksum does not verify (unless the kernel vouched for
// it) is never merged: the merged packet gets a fresh checksum, which would
// hide the corruption.
//
// Two passes over the batch, no allocation: the first groups packets into
// items (linked lists of packet indices) by headers only; the second copies
// each group of two or more, back to back, into the caller's region.

import { fold16, pseudoHeaderSum, sum16 } from '../wire/checksum.js';
import { IpProto, readU32 } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import { VirtioGso } from '../wire/virtio-net.js';

const MAX_IP_LEN = 0xffff;
/** Datagrams in one UDP super-packet, at most (the kernel's UDP_MAX_SEGMENTS was 64 before 6.x). */
const MAX_UDP_SEGMENTS = 64;
const ACK = TcpFlag.ACK;
const ACK_PSH = TcpFlag.ACK | TcpFlag.PSH;
/** A `trusted` value for coalesce(): pass this packet as it is. */
export const PASS = 2;
/** What coalesce() may merge (a bit set): what the egress takes whole. */
export const Coalesce = { TCP: 1, UDP: 2 } as const;

// itState bits.
const OPEN = 1;
const PUSHED = 2;
const SHORT = 4;
const HEAD_VERIFIED = 8;
/** Atomic packets that all carry the head's IP identification. */
const FIXED_ID = 16;

export class Coalescer {
  /** Per output packet, in batch order: offset of the IP packet in buf. */
  readonly outOffsets: Int32Array;
  /** Per output packet: IP length. */
  readonly outLengths: Int32Array;
  /**
   * Per output packet: 1 if built by coalescing (its virtio-net header is
   * written in front of it), 0 if an input packet passes unchanged (the
   * caller writes the header it needs; outInput says which input it was).
   */
  readonly outMerged: Uint8Array;
  readonly outInput: Int32Array;
  /** Per merged output packet: its gso_type (VirtioGso.TCPV4 or UDP_L4) and gso_size (the payload of its first segment). */
  readonly outKind: Uint8Array;
  readonly outGso: Int32Array;
  outCount = 0;
  /** Input packets merged into another (so: writes saved) in the last batch. */
  merged = 0;

  // Items: one candidate group each.
  private readonly itHead: Int32Array;
  private readonly itTail: Int32Array;
  private readonly itMembers: Int32Array;
  private readonly itProto: Uint8Array;
  private readonly itSrc: Int32Array;
  private readonly itDst: Int32Array;
  private readonly itPorts: Int32Array;
  private readonly itAck: Int32Array;
  /** TCP: the next sequence number; UDP: 0. */
  private readonly itNextSeq: Int32Array;
  /** The IP identification the next member must carry (the head's in a FIXED_ID run). */
  private readonly itNextId: Int32Array;
  private readonly itGso: Int32Array;
  private readonly itLen: Int32Array;
  /** OPEN, PUSHED, SHORT, HEAD_VERIFIED, FIXED_ID */
  private readonly itState: Uint8Array;
  /** Where the head packet of each item is (its headers are what later members are compared with). */
  private readonly itHeadOff: Int32Array;
  private readonly itHeadLen: Int32Array;
  private items = 0;
  /** Per input packet: the next member of its item, -1 at the end. */
  private readonly next: Int32Array;
  /** Batch order: item id (≥ 0) or -(packet index + 1) for a packet that passes. */
  private readonly order: Int32Array;
  private orderLen = 0;
  // Flow → its latest item, open addressing (only a flow's latest item can be open): a batch of many flows
  // would otherwise compare each packet with every item. A slot is in use in this batch if its stamp is `batch`.
  private readonly slotItem: Int32Array;
  private readonly slotStamp: Int32Array;
  private readonly slotMask: number;
  private batch = 0;

  constructor(readonly maxPackets = 64) {
    const n = maxPackets;
    this.outOffsets = new Int32Array(n);
    this.outLengths = new Int32Array(n);
    this.outMerged = new Uint8Array(n);
    this.outInput = new Int32Array(n);
    this.outKind = new Uint8Array(n);
    this.outGso = new Int32Array(n);
    this.itHead = new Int32Array(n);
    this.itTail = new Int32Array(n);
    this.itMembers = new Int32Array(n);
    this.itProto = new Uint8Array(n);
    this.itSrc = new Int32Array(n);
    this.itDst = new Int32Array(n);
    this.itPorts = new Int32Array(n);
    this.itAck = new Int32Array(n);
    this.itNextSeq = new Int32Array(n);
    this.itNextId = new Int32Array(n);
    this.itGso = new Int32Array(n);
    this.itLen = new Int32Array(n);
    this.itState = new Uint8Array(n);
    this.itHeadOff = new Int32Array(n);
    this.itHeadLen = new Int32Array(n);
    this.next = new Int32Array(n);
    this.order = new Int32Array(n);
    let slots = 16;
    while (slots < 2 * n) slots *= 2;
    this.slotItem = new Int32Array(slots);
    this.slotStamp = new Int32Array(slots);
    this.slotMask = slots - 1;
  }

  /**
   * Coalesce packets buf[offsets[i], +lengths[i]) for i < count (IP packets;
   * `trusted[i]` = 1 when the kernel marked the checksum partial or valid,
   * PASS when the packet must go as it is — a super-packet — though what
   * follows it of its flow still must not overtake it). `kinds` (Coalesce
   * bits) says what may be merged. Merged packets are written into
   * buf[regionOff, regionEnd), each after `front` free bytes for the
   * caller's headers (a virtio-net header, a link header). Results in
   * outOffsets/outLengths/outMerged/outInput/outKind/outGso[0, outCount).
   * Returns outCount.
   */
  coalesce(
    buf: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, trusted: Uint8Array | null,
    regionOff: number, regionEnd: number, front: number, kinds: number = Coalesce.TCP,
  ): number {
    if (count > this.maxPackets) count = this.maxPackets;
    this.items = 0;
    this.orderLen = 0;
    this.merged = 0;
    this.batch = (this.batch + 1) | 0;
    if (this.batch === 0) { this.slotStamp.fill(0); this.batch = 1; }
    for (let i = 0; i < count; i++) {
      const t = trusted === null ? 0 : trusted[i];
      this.group(buf, offsets[i], lengths[i], i, t === 1, t === PASS, kinds);
    }
    return this.build(buf, offsets, lengths, regionOff, regionEnd, front);
  }

  private group(b: Uint8Array, o: number, len: number, i: number, trusted: boolean, hold: boolean, kinds: number): void {
    this.next[i] = -1;
    // Candidate: IPv4 without options, TCP (ACK or ACK|PSH) or UDP, whole (not a fragment), with payload.
    const proto = len >= 28 && b[o] === 0x45 ? b[o + 9] : -1;
    const tcp = proto === IpProto.TCP && (kinds & Coalesce.TCP) !== 0 && len >= 40;
    if (!tcp && !(proto === IpProto.UDP && (kinds & Coalesce.UDP) !== 0)) { this.pass(i); return; }
    const src = (b[o + 12] << 24) | (b[o + 13] << 16) | (b[o + 14] << 8) | b[o + 15];
    const dst = (b[o + 16] << 24) | (b[o + 17] << 16) | (b[o + 18] << 8) | b[o + 19];
    const ports = (b[o + 20] << 24) | (b[o + 21] << 16) | (b[o + 22] << 8) | b[o + 23];
    const it = this.findOpen(proto, src, dst, ports);
    const whole = !hold && ((b[o + 2] << 8) | b[o + 3]) === len && (((b[o + 6] << 8) | b[o + 7]) & 0x3fff) === 0;
    const id = (b[o + 4] << 8) | b[o + 5];
    let hlen: number, candidate: boolean, seq = 0, ack = 0, pushed = false;
    if (tcp) {
      const thl = (b[o + 32] >>> 4) << 2;
      const flags = b[o + 33];
      hlen = 20 + thl;
      candidate = whole && thl >= 20 && len > hlen && (flags === ACK || flags === ACK_PSH);
      ack = (b[o + 28] << 24) | (b[o + 29] << 16) | (b[o + 30] << 8) | b[o + 31];
      seq = (b[o + 24] << 24) | (b[o + 25] << 16) | (b[o + 26] << 8) | b[o + 27];
      pushed = flags === ACK_PSH;
    } else {
      hlen = 28;
      candidate = whole && len > hlen && ((b[o + 24] << 8) | b[o + 25]) === len - 20 && (trusted || b[o + 26] !== 0 || b[o + 27] !== 0);
    }
    if (!candidate) {
      // Anything else of this flow (a pure ACK, FIN, …) must not be overtaken by later data.
      if (it >= 0) this.itState[it] &= ~OPEN;
      this.pass(i);
      return;
    }
    const payload = len - hlen;
    // TCP counts bytes; UDP has no sequence (0): its datagrams are ordered by the IP identification alone.
    const nextSeq = tcp ? (seq + payload) | 0 : 0;
    if (it >= 0) {
      if (this.canAppend(b, o, it, ack, seq, id, hlen, payload)) {
        const st = this.itState[it];
        const headOk = (st & HEAD_VERIFIED) !== 0 || this.checksumOk(b, this.itHeadOff[it], this.itHeadLen[it], proto);
        if (!headOk) {
          // The head cannot be merged into: it passes alone; this packet starts anew.
          this.itState[it] = 0;
        } else if (!trusted && !this.checksumOk(b, o, len, proto)) {
          this.itState[it] = 0;
          this.pass(i);
          return;
        } else {
          // A second packet with the head's ID: a fixed-ID run (canAppend checked it may be one).
          const fixed = id !== this.itNextId[it];
          this.next[this.itTail[it]] = i;
          this.itTail[it] = i;
          this.itMembers[it]++;
          this.itNextSeq[it] = nextSeq;
          this.itNextId[it] = fixed || (st & FIXED_ID) !== 0 ? id : (id + 1) & 0xffff;
          this.itLen[it] += payload;
          this.itState[it] = st | HEAD_VERIFIED | (pushed ? PUSHED : 0) | (payload < this.itGso[it] ? SHORT : 0) | (fixed ? FIXED_ID : 0);
          this.merged++;
          return;
        }
      } else {
        this.itState[it] &= ~OPEN;
      }
    }
    const n = this.items++;
    this.itHead[n] = i;
    this.itTail[n] = i;
    this.itMembers[n] = 1;
    this.itProto[n] = proto;
    this.itSrc[n] = src;
    this.itDst[n] = dst;
    this.itPorts[n] = ports;
    this.itAck[n] = ack;
    this.itNextSeq[n] = nextSeq;
    this.itNextId[n] = (id + 1) & 0xffff;
    this.itGso[n] = payload;
    this.itLen[n] = len;
    this.itState[n] = OPEN | (pushed ? PUSHED : 0) | (trusted ? HEAD_VERIFIED : 0);
    this.itHeadOff[n] = o;
    this.itHeadLen[n] = len;
    this.order[this.orderLen++] = n;
    const s = this.slotOf(proto, src, dst, ports);
    this.slotStamp[s] = this.batch;
    this.slotItem[s] = n;
  }

  private pass(i: number): void {
    this.order[this.orderLen++] = -(i + 1);
  }

  /** The flow's slot in the table: where its latest item is, or the free slot it would take. */
  private slotOf(proto: number, src: number, dst: number, ports: number): number {
    const mask = this.slotMask;
    let s = (Math.imul(src ^ Math.imul(dst, 0x9e3779b1) ^ Math.imul(ports, 0x85ebca6b) ^ proto, 0xc2b2ae35) >>> 16) & mask;
    for (;;) {
      if (this.slotStamp[s] !== this.batch) return s;
      const n = this.slotItem[s];
      if (this.itSrc[n] === src && this.itDst[n] === dst && this.itPorts[n] === ports && this.itProto[n] === proto) return s;
      s = (s + 1) & mask;
    }
  }

  /** The flow's open item, or -1. */
  private findOpen(proto: number, src: number, dst: number, ports: number): number {
    const s = this.slotOf(proto, src, dst, ports);
    if (this.slotStamp[s] !== this.batch) return -1;
    const n = this.slotItem[s];
    return (this.itState[n] & OPEN) !== 0 ? n : -1;
  }

  private canAppend(b: Uint8Array, o: number, it: number, ack: number, seq: number, id: number, hlen: number, payload: number): boolean {
    if ((this.itState[it] & (PUSHED | SHORT)) !== 0) return false; // nothing after PSH or after a short segment
    const h = this.itHeadOff[it];
    if (ack !== this.itAck[it] || seq !== this.itNextSeq[it]) return false;
    // The next identification in the run, or (atomic) the head's again for the run's second: then the run's ID is fixed.
    if (id !== this.itNextId[it] && !(this.itMembers[it] === 1 && (b[o + 6] & 0x40) !== 0 && id === ((b[h + 4] << 8) | b[h + 5]))) return false;
    if (payload > this.itGso[it] || this.itLen[it] + payload > MAX_IP_LEN) return false;
    if (b[h + 1] !== b[o + 1] || b[h + 8] !== b[o + 8] || (b[h + 6] & 0xe0) !== (b[o + 6] & 0xe0)) return false; // TOS, TTL, DF
    if (this.itProto[it] === IpProto.UDP) return this.itMembers[it] < MAX_UDP_SEGMENTS;
    if (b[h + 32] !== b[o + 32]) return false; // TCP header length
    if (b[h + 34] !== b[o + 34] || b[h + 35] !== b[o + 35]) return false; // window
    for (let k = 40; k < hlen; k++) if (b[h + k] !== b[o + k]) return false; // options (timestamps too)
    return true;
  }

  private checksumOk(b: Uint8Array, o: number, len: number, proto: number): boolean {
    const l4 = len - 20;
    return fold16(sum16(b, o + 20, l4, pseudoHeaderSum(readU32(b, o + 12), readU32(b, o + 16), proto, l4))) === 0xffff;
  }

  private build(b: Uint8Array, offsets: Int32Array, lengths: Int32Array, regionOff: number, regionEnd: number, front: number): number {
    let out = 0;
    let p = regionOff;
    for (let k = 0; k < this.orderLen; k++) {
      const e = this.order[k];
      if (e < 0) {
        out = this.emit(out, offsets[-e - 1], lengths[-e - 1], -e - 1);
        continue;
      }
      const head = this.itHead[e];
      const total = this.itLen[e];
      const at = ((p + 7) & ~7) + front;
      if (this.itMembers[e] < 2 || at + total > regionEnd) {
        // Alone, or no room: every member goes out as it came.
        for (let i = head; i >= 0; i = this.next[i]) out = this.emit(out, offsets[i], lengths[i], i);
        continue;
      }
      const tcp = this.itProto[e] === IpProto.TCP;
      const ho = offsets[head], hl = lengths[head];
      b.copyWithin(at, ho, ho + hl);
      const hlen = tcp ? 20 + ((b[at + 32] >>> 4) << 2) : 28;
      let w = at + hl;
      for (let i = this.next[head]; i >= 0; i = this.next[i]) {
        const o = offsets[i];
        b.copyWithin(w, o + hlen, o + lengths[i]);
        w += lengths[i] - hlen;
      }
      // IPv4 length and header checksum.
      b[at + 2] = total >>> 8;
      b[at + 3] = total;
      b[at + 10] = 0;
      b[at + 11] = 0;
      const ipc = ~fold16(sum16(b, at, 20)) & 0xffff;
      b[at + 10] = ipc >>> 8;
      b[at + 11] = ipc;
      // Partial checksum: the receiving kernel (or whoever segments) finishes it.
      const pc = fold16(pseudoHeaderSum(readU32(b, at + 12), readU32(b, at + 16), this.itProto[e], total - 20));
      if (tcp) {
        if ((this.itState[e] & PUSHED) !== 0) b[at + 33] |= TcpFlag.PSH; // the last member's PSH
        b[at + 36] = pc >>> 8;
        b[at + 37] = pc;
      } else {
        // UDP: the length of the whole (the kernel's segmentation gives each datagram its own).
        b[at + 24] = (total - 20) >>> 8;
        b[at + 25] = total - 20;
        b[at + 26] = pc >>> 8;
        b[at + 27] = pc;
      }
      this.outOffsets[out] = at;
      this.outLengths[out] = total;
      this.outMerged[out] = 1;
      this.outInput[out] = head;
      this.outKind[out] = tcp ? VirtioGso.TCPV4 : VirtioGso.UDP_L4;
      this.outGso[out] = this.itGso[e];
      out++;
      p = at + total;
    }
    this.outCount = out;
    return out;
  }

  private emit(out: number, off: number, len: number, input: number): number {
    this.outOffsets[out] = off;
    this.outLengths[out] = len;
    this.outMerged[out] = 0;
    this.outInput[out] = input;
    return out + 1;
  }
}
