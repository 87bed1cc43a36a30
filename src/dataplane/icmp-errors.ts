// ICMP error generation as RFC 1812 §4.3.2 asks: never about an ICMP error,
// a non-first fragment, or a packet to/from a broadcast, multicast or
// martian address; rate-limited by a token bucket; sourced from the router's
// address on the port the offending packet came in on (so traceroute shows
// that hop); routed back by the FIB.
import { ICMP_ERROR_MAX_LEN, buildIcmpError, icmpErrorAllowed } from '../wire/icmp.js';
import type { Ipv4View } from '../wire/ipv4.js';
import type { Port } from '../ports/port.js';
import type { Output } from './output.js';

export interface IcmpRateLimit {
  /** Errors per second, sustained. */
  rate: number;
  /** Errors allowed in a burst. */
  burst: number;
}

export class IcmpErrors {
  private tokens: number;
  private last = performance.now();
  sent = 0;
  suppressed = 0;

  constructor(private readonly output: Output, private limit: IcmpRateLimit = { rate: 100, burst: 50 }) {
    this.tokens = limit.burst;
  }

  /** Send an ICMP error about the packet `ip` (attached to the arena) that arrived on `ingress`. */
  send(type: number, code: number, param: number, ingress: Port, ip: Ipv4View): void {
    if (!this.eligible(ip, ingress)) return;
    if (!this.take()) {
      this.suppressed++;
      return;
    }
    const off = this.output.scratch(ICMP_ERROR_MAX_LEN);
    const len = buildIcmpError(this.output.arena.bytes, off, type, code, param, ingress.address, ip.buf, ip.off, ip.len);
    if (len > 0 && this.output.route(off, len, ip.src)) this.sent++;
  }

  setLimit(limit: IcmpRateLimit): void {
    this.limit = limit;
    this.tokens = Math.min(this.tokens, limit.burst);
  }

  private eligible(ip: Ipv4View, ingress: Port): boolean {
    // RFC 1812 §4.3.2.7 rules live with the format; the port's directed broadcast is ours.
    return icmpErrorAllowed(ip.buf, ip.off, ip.len) && ip.src !== ingress.broadcast && ip.dst !== ingress.broadcast;
  }

  private take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.rate) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
