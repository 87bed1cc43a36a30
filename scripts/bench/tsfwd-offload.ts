/**
 * A minimal TypeScript forwarding loop between two TUN devices (A ↔ B,
 * both directions) on the offload building blocks: what Node does with TCP
 * super-packets before they reach the real packet path. Per packet: check
 * the virtio-net header and the IPv4 header, the forwarding MTU rule
 * (ICMP Fragmentation Needed back to the sender when DF forbids what would
 * go on the wire), TTL - 1; then per egress:
 *   - offload TUN taking that GSO type: the super-packet passes whole
 *     (its partial checksum stays partial);
 *   - otherwise (plain TUN): software segmentation with full checksums,
 *     or, for a single packet with a partial checksum, the checksum
 *     finished in place;
 *   - from a plain TUN into an offload TUN with --gro: segments of a batch
 *     coalesced into super-packets.
 * No routing table, no ICMP time exceeded: a bench and test tool.
 *
 *   node dist/scripts/bench/tsfwd-offload.js NS_A DEV_A NS_B DEV_B
 *     [--plain-a] [--plain-b] [--mtu-a N] [--mtu-b N] [--addr-a IP] [--addr-b IP] [--gro]
 *
 * --mtu-X is the router's MTU toward X (default 1500 for a plain side,
 * 65535 for an offload side: the kernel behind it takes whole super-packets);
 * --addr-X the router's address on X (source of its ICMP errors).
 * On SIGTERM/SIGINT it prints its counters as one JSON line on stdout and exits.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Coalescer } from '../../src/dataplane/gro.js';
import {
  MtuVerdict, SegmentChecksum, gsoHeaderLength, mtuVerdict, segmentGso,
} from '../../src/dataplane/gso.js';
import { parseAddress } from '../../src/net/addr.js';
import { finishPartialChecksum } from '../../src/wire/checksum.js';
import { TunDevice, TunOffload } from '../../src/ports/tun-device.js';
import { IcmpType, UnreachCode, buildIcmpError } from '../../src/wire/icmp.js';
import { Ipv4Check, Ipv4View } from '../../src/wire/ipv4.js';
import { VirtioCheck, VirtioGso, VirtioNetHdrView, offloadWord, writeVnetHeader } from '../../src/wire/virtio-net.js';

const HEADROOM = 64;
const SLOTS = 64;
const SLOT = HEADROOM + 65536 + 64;
const SCRATCH = 8 << 20;
const TX_MAX = 4096;

export interface SideOptions {
  netns: string;
  device: string;
  offload: boolean;
  mtu: number;
  address: number;
}

class Counters {
  packets = 0;
  bytes = 0;
  superPackets = 0;
  passedWhole = 0;
  segmented = 0;
  segmentsOut = 0;
  checksumsFinished = 0;
  coalescedInto = 0;
  fragNeeded = 0;
  drops: Record<string, number> = {};
  writeErrors = 0;
  batches = 0;
  drop(reason: string): void { this.drops[reason] = (this.drops[reason] ?? 0) + 1; }
}

class Side {
  readonly dev: TunDevice;
  readonly vh: number;
  readonly tsoOut: boolean;
  readonly usoOut: boolean;
  readonly csumOut: boolean;
  readonly lengths = new Int32Array(SLOTS);
  readonly txOff = new Int32Array(TX_MAX);
  readonly txLen = new Int32Array(TX_MAX);
  txCount = 0;
  slotBase = 0;
  peer!: Side;
  /** Counters of what came in on this side (and went out the peer). */
  readonly c = new Counters();

  constructor(readonly o: SideOptions) {
    this.dev = new TunDevice({ name: o.device, netns: o.netns, offload: o.offload });
    this.vh = this.dev.vnetHdrSize;
    const f = this.dev.offloads;
    this.csumOut = (f & TunOffload.CSUM) !== 0;
    this.tsoOut = this.csumOut && (f & TunOffload.TSO4) !== 0;
    this.usoOut = this.csumOut && (f & TunOffload.USO4) !== 0;
  }
}

export class OffloadRelay {
  readonly a: Side;
  readonly b: Side;
  private readonly buf: ArrayBuffer;
  private readonly u8: Uint8Array;
  private readonly scratchStart: number;
  private scratchNext: number;
  private readonly ip = new Ipv4View();
  private readonly hdr = new VirtioNetHdrView();
  private readonly gro = new Coalescer(SLOTS);
  private readonly groOff = new Int32Array(SLOTS);
  private readonly groLen = new Int32Array(SLOTS);
  private readonly groTrusted = new Uint8Array(SLOTS);

  constructor(a: SideOptions, b: SideOptions, readonly useGro = false) {
    this.a = new Side(a);
    this.b = new Side(b);
    this.a.peer = this.b;
    this.b.peer = this.a;
    this.buf = new ArrayBuffer(2 * SLOTS * SLOT + SCRATCH);
    this.u8 = new Uint8Array(this.buf);
    this.a.slotBase = 0;
    this.b.slotBase = SLOTS * SLOT;
    this.scratchStart = 2 * SLOTS * SLOT;
    this.scratchNext = this.scratchStart;
    for (const s of [this.a, this.b]) {
      s.dev.startReading(this.buf, s.slotBase + HEADROOM - s.vh, SLOT, SLOTS, s.lengths, (n, err) => this.onBatch(s, n, err));
    }
  }

  close(): void {
    this.a.dev.close();
    this.b.dev.close();
  }

  stats(): Record<string, unknown> {
    return { aToB: this.a.c, bToA: this.b.c };
  }

  private scratch(bytes: number): number {
    const off = (this.scratchNext + 7) & ~7;
    if (off + bytes > this.u8.length) return -1;
    this.scratchNext = off + bytes;
    return off;
  }

  private onBatch(from: Side, n: number, err: number): void {
    if (err) from.c.drop(`read-errno-${err}`);
    const to = from.peer;
    const c = from.c;
    c.batches++;
    this.scratchNext = this.scratchStart;
    let groCount = 0;
    const gro = this.useGro && from.vh === 0 && to.vh > 0 && to.tsoOut;
    for (let i = 0; i < n; i++) {
      const ipOff = from.slotBase + HEADROOM + i * SLOT;
      const len = from.lengths[i] - from.vh;
      c.packets++;
      if (len <= 0) { c.drop('short'); continue; }
      c.bytes += len;
      let gsoKind: number = VirtioGso.NONE, gsoSize = 0, partial = false, csumStart = 0, csumOffset = 0;
      if (from.vh) {
        const h = this.hdr.attach(this.u8, ipOff - from.vh, from.vh);
        const chk = h.check(len);
        if (chk !== VirtioCheck.OK) { c.drop(`virtio-${chk}`); continue; }
        gsoKind = h.gsoKind;
        gsoSize = h.gsoSize;
        partial = h.needsCsum;
        csumStart = h.csumStart;
        csumOffset = h.csumOffset;
      }
      const ip = this.ip.attach(this.u8, ipOff, len);
      if (ip.validate() !== Ipv4Check.OK) { c.drop('bad-ipv4'); continue; }
      if (ip.totalLength !== len) { c.drop('length'); continue; }
      if (ip.ttl <= 1) { c.drop('ttl'); continue; }
      let hlen = 0;
      if (gsoKind !== VirtioGso.NONE) {
        hlen = gsoHeaderLength(this.u8, ipOff, len, gsoKind);
        if (hlen < 0) { c.drop('gso-malformed'); continue; }
        c.superPackets++;
      }
      const verdict = mtuVerdict(len, ip.dontFragment, hlen > 0 ? hlen + gsoSize : 0, to.o.mtu);
      if (verdict === MtuVerdict.FRAG_NEEDED) { this.fragNeeded(from, ipOff, len); continue; }
      if (verdict === MtuVerdict.FRAGMENT || verdict === MtuVerdict.SEGMENT_AND_FRAGMENT) { c.drop('needs-fragmentation'); continue; }
      ip.decrementTtl();

      if (hlen > 0) {
        const whole = gsoKind === VirtioGso.TCPV4 ? to.tsoOut : to.usoOut;
        if (whole && to.vh === from.vh) {
          this.queue(to, ipOff - to.vh, len + to.vh);
          c.passedWhole++;
          continue;
        }
        if (verdict === MtuVerdict.FITS && !whole) {
          // One packet after all (an egress with a large MTU): finish its checksum.
          if (partial) { finishPartialChecksum(this.u8, ipOff, len, csumStart, csumOffset); c.checksumsFinished++; }
          this.plainOut(to, ipOff, len);
          continue;
        }
        this.segment(from, to, ipOff, len, gsoKind, gsoSize);
        continue;
      }
      if (partial) {
        if (to.vh && to.csumOut) {
          if (to.vh !== from.vh) this.hdr.attach(this.u8, ipOff - to.vh, to.vh).setPartial(csumStart, csumOffset);
          this.queue(to, ipOff - to.vh, len + to.vh);
          continue;
        }
        if (!finishPartialChecksum(this.u8, ipOff, len, csumStart, csumOffset)) { c.drop('csum-range'); continue; }
        c.checksumsFinished++;
      }
      if (gro) {
        this.groOff[groCount] = ipOff;
        this.groLen[groCount] = len;
        this.groTrusted[groCount] = 0;
        groCount++;
        continue;
      }
      this.plainOut(to, ipOff, len);
    }
    if (groCount > 0) this.coalesce(from, to, groCount);
    this.flush(to);
    this.flush(from); // ICMP errors back to the sender
  }

  private plainOut(to: Side, ipOff: number, len: number): void {
    if (to.vh) this.hdr.attach(this.u8, ipOff - to.vh, to.vh).setNone();
    this.queue(to, ipOff - to.vh, len + to.vh);
  }

  private segment(from: Side, to: Side, ipOff: number, len: number, kind: number, gsoSize: number): void {
    const c = from.c;
    if (to.txCount + 1024 > TX_MAX) this.flush(to);
    const region = this.scratch(0);
    const csum = to.vh && to.csumOut ? SegmentChecksum.PARTIAL : SegmentChecksum.FULL;
    let n = region < 0 ? -2 : segmentGso(this.u8, ipOff, len, kind, gsoSize, this.u8, region, this.u8.length, to.vh, csum,
      to.txOff, to.txLen, to.txCount, TX_MAX - to.txCount);
    if (n === -2) {
      // Scratch full: send what is queued (it points into scratch), start over.
      this.flush(to);
      this.flush(from);
      this.scratchNext = this.scratchStart;
      n = segmentGso(this.u8, ipOff, len, kind, gsoSize, this.u8, this.scratchStart, this.u8.length, to.vh, csum,
        to.txOff, to.txLen, to.txCount, TX_MAX - to.txCount);
    }
    if (n < 0) { c.drop(`segment${n}`); return; }
    c.segmented++;
    c.segmentsOut += n;
    const hl = (this.u8[ipOff] & 0x0f) << 2;
    const csumOff = kind === VirtioGso.TCPV4 ? 16 : 6;
    let end = 0;
    for (let k = to.txCount; k < to.txCount + n; k++) {
      const o = to.txOff[k];
      if (to.vh) {
        const h = this.hdr.attach(this.u8, o - to.vh, to.vh);
        if (csum === SegmentChecksum.PARTIAL) h.setPartial(hl, csumOff); else h.setNone();
      }
      end = o + to.txLen[k];
      to.txOff[k] = o - to.vh;
      to.txLen[k] += to.vh;
    }
    to.txCount += n;
    this.scratchNext = end;
  }

  private coalesce(from: Side, to: Side, count: number): void {
    const region = this.scratch(0);
    const n = this.gro.coalesce(this.u8, this.groOff, this.groLen, count, this.groTrusted, region < 0 ? 0 : region,
      region < 0 ? 0 : this.u8.length, to.vh);
    from.c.coalescedInto += this.gro.merged;
    for (let k = 0; k < n; k++) {
      const off = this.gro.outOffsets[k], len = this.gro.outLengths[k];
      const word = this.gro.outMerged[k] === 1 ? offloadWord(this.gro.outKind[k]!, this.gro.outGso[k]!) : 0;
      writeVnetHeader(this.u8, off - to.vh, to.vh, off, word, 0);
      this.queue(to, off - to.vh, len + to.vh);
      if (this.gro.outMerged[k] === 1) this.scratchNext = off + len;
    }
  }

  /** ICMP 3/4 with the egress MTU back out the side the packet came in on. */
  private fragNeeded(from: Side, ipOff: number, len: number): void {
    const at = this.scratch(HEADROOM + 576);
    if (at < 0) { from.c.drop('icmp-no-room'); return; }
    const out = at + HEADROOM;
    const n = buildIcmpError(this.u8, out, IcmpType.DEST_UNREACHABLE, UnreachCode.FRAG_NEEDED, from.peer.o.mtu,
      from.o.address, this.u8, ipOff, len);
    if (n < 0) { from.c.drop('icmp-build'); return; }
    from.c.fragNeeded++;
    this.plainOut(from, out, n);
  }

  private queue(s: Side, off: number, len: number): void {
    if (s.txCount === TX_MAX) this.flush(s);
    s.txOff[s.txCount] = off;
    s.txLen[s.txCount] = len;
    s.txCount++;
  }

  private flush(s: Side): void {
    if (s.txCount === 0) return;
    const ok = s.dev.writeBatch(this.buf, s.txOff, s.txLen, s.txCount);
    if (ok !== s.txCount) s.peer.c.writeErrors += s.txCount - ok;
    s.txCount = 0;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'plain-a': { type: 'boolean' }, 'plain-b': { type: 'boolean' },
      'mtu-a': { type: 'string' }, 'mtu-b': { type: 'string' },
      'addr-a': { type: 'string' }, 'addr-b': { type: 'string' },
      gro: { type: 'boolean' },
    },
  });
  if (positionals.length !== 4) {
    console.error('usage: tsfwd-offload NS_A DEV_A NS_B DEV_B [--plain-a] [--plain-b] [--mtu-a N] [--mtu-b N] [--addr-a IP] [--addr-b IP] [--gro]');
    process.exit(2);
  }
  const side = (ns: string, dev: string, plain: boolean | undefined, mtu: string | undefined, addr: string | undefined): SideOptions => ({
    netns: ns, device: dev, offload: !plain, mtu: mtu ? Number(mtu) : plain ? 1500 : 65535, address: parseAddress(addr ?? '0.0.0.0'),
  });
  const [nsA, devA, nsB, devB] = positionals as [string, string, string, string];
  let relay: OffloadRelay;
  try {
    relay = new OffloadRelay(
      side(nsA, devA, values['plain-a'], values['mtu-a'], values['addr-a']),
      side(nsB, devB, values['plain-b'], values['mtu-b'], values['addr-b']),
      values.gro ?? false,
    );
  } catch (e) {
    console.error(`tsfwd-offload: ${(e as Error).message}`);
    process.exit(1);
  }
  console.error(`tsfwd-offload: A offloads 0x${relay.a.dev.offloads.toString(16)}, B offloads 0x${relay.b.dev.offloads.toString(16)}`);
  const stop = () => {
    process.stdout.write(`${JSON.stringify(relay.stats())}\n`, () => {
      relay.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
