// Which egress port each flow (protocol, src, dst, ports) took last, so a
// port being drained keeps carrying the flows already on it while new flows
// take the next-best route. A set-associative table on typed arrays: one
// hash and at most WAYS compares per packet, nothing allocated.
import type { Port } from '../ports/port.js';
import { IpProto, type Ipv4View } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';

const WAYS = 4;
const FLAG_CLOSING = 1;
/** A flow that saw FIN or RST holds its port only this much longer, ms. */
const CLOSING_LINGER_MS = 1000;

export class FlowTable {
  private readonly bucketBits: number;
  private readonly src: Uint32Array;
  private readonly dst: Uint32Array;
  private readonly ports: Uint32Array;
  private readonly proto: Uint8Array;
  private readonly flags: Uint8Array;
  private readonly egress: Int16Array;
  /** The next hop each flow was sent to on its port (0: its destination). */
  private readonly gateway: Uint32Array;
  /** Set by track(): the next hop to send the packet to (0: its destination). */
  nextHop = 0;
  /** Last packet, ms since `epoch` (0 = empty slot). */
  private readonly last: Float64Array;
  private readonly epoch = Date.now() - 1;
  /** Coarse clock: set once per receive batch, not per packet. */
  now = 1;
  /** Packets of existing flows kept on a draining port. */
  pinned = 0;

  constructor(private readonly portList: readonly Port[], public idleMs: number, bucketBits = 14) {
    this.bucketBits = bucketBits;
    const n = (1 << bucketBits) * WAYS;
    this.src = new Uint32Array(n);
    this.dst = new Uint32Array(n);
    this.ports = new Uint32Array(n);
    this.proto = new Uint8Array(n);
    this.flags = new Uint8Array(n);
    this.egress = new Int16Array(n);
    this.gateway = new Uint32Array(n);
    this.last = new Float64Array(n);
  }

  tick(): void {
    this.now = Date.now() - this.epoch;
  }

  /**
   * Record that the packet `ip` is about to leave by `egress` toward
   * `gateway` and return the port it should really take: the draining port
   * its flow already uses, if any, else `egress`; `nextHop` then holds the
   * gateway that goes with it.
   */
  track(ip: Ipv4View, egress: number, gateway = 0): number {
    this.nextHop = gateway;
    const proto = ip.protocol;
    const src = ip.src;
    const dst = ip.dst;
    let l4 = 0;
    let tcpFlags = 0;
    if (ip.hasPorts) {
      l4 = ((ip.srcPort << 16) | ip.dstPort) >>> 0;
      if (proto === IpProto.TCP && ip.payloadLength >= 14) tcpFlags = ip.buf[ip.payloadOffset + 13]!;
    }
    const h = (Math.imul(src, 0x9e3779b1) ^ Math.imul(dst, 0x85ebca6b) ^ Math.imul(l4, 0xc2b2ae35) ^ proto) >>> (32 - this.bucketBits);
    const base = h * WAYS;
    const now = this.now;
    let victim = base;
    let oldest = Infinity;
    for (let i = base; i < base + WAYS; i++) {
      const seen = this.last[i]!;
      if (seen !== 0 && this.src[i] === src && this.dst[i] === dst && this.ports[i] === l4 && this.proto[i] === proto) {
        return this.update(i, egress, gateway, tcpFlags);
      }
      if (seen < oldest) {
        oldest = seen;
        victim = i;
      }
    }
    this.src[victim] = src;
    this.dst[victim] = dst;
    this.ports[victim] = l4;
    this.proto[victim] = proto;
    this.flags[victim] = tcpFlags & (TcpFlag.FIN | TcpFlag.RST) ? FLAG_CLOSING : 0;
    this.egress[victim] = egress;
    this.gateway[victim] = gateway;
    this.last[victim] = now;
    return egress;
  }

  private update(i: number, egress: number, gateway: number, tcpFlags: number): number {
    const prev = this.egress[i]!;
    const live = this.isLive(i);
    // A bare SYN opens a new connection even if the tuple is reused.
    const newConnection = (tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    let out = egress;
    if (prev !== egress && live && !newConnection && this.portList[prev]?.state === 'draining') {
      out = prev;
      this.nextHop = this.gateway[i]!;
      this.pinned++;
    } else {
      this.gateway[i] = gateway;
    }
    if (newConnection) this.flags[i] = 0;
    if (tcpFlags & (TcpFlag.FIN | TcpFlag.RST)) this.flags[i] = this.flags[i]! | FLAG_CLOSING;
    this.egress[i] = out;
    this.last[i] = this.now;
    return out;
  }

  private isLive(i: number): boolean {
    const age = this.now - this.last[i]!;
    return age < ((this.flags[i]! & FLAG_CLOSING) !== 0 ? Math.min(CLOSING_LINGER_MS, this.idleMs) : this.idleMs);
  }

  /** Live flows currently leaving by `port` (a scan: for the drain timer, not per packet). */
  liveFlowsOn(port: number): number {
    this.tick();
    let n = 0;
    for (let i = 0; i < this.last.length; i++) {
      if (this.last[i] !== 0 && this.egress[i] === port && this.isLive(i)) n++;
    }
    return n;
  }
}
