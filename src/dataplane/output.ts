// The last step of the packet path: MTU check, fragmentation (RFC 791) and
// queueing on the egress port; plus the scratch space for packets the router
// builds itself, and the flush that hands every queue to the kernel.
import { HEADROOM, type PacketArena } from '../packet/arena.js';
import { Drop } from '../packet/drops.js';
import { fragmentIpv4 } from './fragment.js';
import type { Port } from '../ports/port.js';
import { NO_ROUTE, type Fib } from '../routing/fib.js';

const MAX_FRAGMENTS = 64;

export class Output {
  private readonly fragOffsets = new Int32Array(MAX_FRAGMENTS);
  private readonly fragLengths = new Int32Array(MAX_FRAGMENTS);
  /** Set by portFor(): the neighbour to send to (the route's gateway, or the destination itself). */
  nextHop = 0;

  constructor(
    readonly arena: PacketArena,
    readonly ports: readonly Port[],
    private readonly fib: Fib,
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
   * Send a datagram out of `port` toward `nextHop` (the neighbour on the
   * link), fragmenting it if it exceeds the MTU. Returns a Drop reason, or
   * -1 when sent (or held by the link while the next hop is resolved). The
   * caller has checked DF.
   */
  send(port: Port, off: number, len: number, nextHop: number): number {
    if (port.muted) return Drop.PORT_BLOCKED;
    if (len <= port.mtu) {
      port.transmit(off, len, nextHop);
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
    for (let i = 0; i < ports.length; i++) ports[i]!.flush();
    // Nothing queued refers to the scratch ring any more.
    this.arena.resetScratch();
  }

  private fragment(port: Port, off: number, len: number, nextHop: number): number {
    // Each fragment gets its own headroom (for the link header).
    const room = len + MAX_FRAGMENTS * (64 + HEADROOM);
    const out = this.scratch(room);
    const n = fragmentIpv4(this.arena.bytes, off, len, port.mtu, this.arena.bytes, out, room, this.fragOffsets, this.fragLengths, HEADROOM);
    if (n < 0) return Drop.FRAG_FAILED;
    for (let i = 0; i < n; i++) port.transmit(this.fragOffsets[i]!, this.fragLengths[i]!, nextHop);
    return -1;
  }
}
