// ICMP error generation as RFC 1812 §4.3.2 asks: never about an ICMP error,
// a non-first fragment, or a packet to/from a broadcast, multicast or
// martian address (§4.3.2.7); rate-limited by a token bucket (§4.3.2.8);
// routed back by the FIB and sourced from the router's address on the port
// it leaves through (§4.3.2.4 — with symmetric routes that is the port the
// offending packet came in on, so traceroute shows that hop).
import { ICMP_ERROR_MAX_LEN, buildIcmpError, icmpErrorAllowed } from '../wire/icmp.js';
import type { Ipv4View } from '../wire/ipv4.js';
import type { Port } from '../ports/port.js';
import type { BatchClock } from './batch-clock.js';
import type { Output } from './output.js';
import { TokenBucket, type RateLimit } from './token-bucket.js';

export type IcmpRateLimit = RateLimit;

export class IcmpErrors {
  private readonly bucket: TokenBucket;
  sent = 0;
  suppressed = 0;

  constructor(private readonly output: Output, limit: IcmpRateLimit, clock: BatchClock) {
    this.bucket = new TokenBucket(limit, clock);
  }

  /** Send an ICMP error about the packet `ip` (attached to the arena) that arrived on `ingress`. */
  send(type: number, code: number, param: number, ingress: Port, ip: Ipv4View): void {
    if (!this.eligible(ip, ingress)) return;
    if (!this.bucket.take()) {
      this.suppressed++;
      return;
    }
    const port = this.output.portFor(ip.src);
    if (port === null) return;
    const off = this.output.scratch(ICMP_ERROR_MAX_LEN);
    const len = buildIcmpError(this.output.arena.bytes, off, type, code, param, port.address, ip.buf, ip.off, ip.len);
    if (len > 0 && this.output.send(port, off, len, this.output.nextHop) < 0) this.sent++;
  }

  setLimit(limit: IcmpRateLimit): void {
    this.bucket.setLimit(limit);
  }

  private eligible(ip: Ipv4View, ingress: Port): boolean {
    // RFC 1812 §4.3.2.7 rules live with the format; the port's directed broadcast is ours.
    // (int32 bits compared: never boxed, see Ipv4View.srcBits)
    const broadcast = ingress.broadcast | 0;
    return icmpErrorAllowed(ip.buf, ip.off, ip.len) && ip.srcBits !== broadcast && ip.dstBits !== broadcast;
  }
}
