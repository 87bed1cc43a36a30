// The router as a host answering ICMP queries on its own addresses, each
// reply built in place in the request's buffer:
//   echo (RFC 1812 §4.3.3.6, MUST), timestamp (§4.3.3.8, MAY — done),
//   address mask (§4.3.3.9, MUST; the mask of the port it came in on).
// The reply's source is the address the request was sent to (the port's
// address for a broadcast mask request). Options (RFC 1122 §3.2.2.6,
// §3.2.1.8; RFC 1812 §4.2.2.1): Record Route and Timestamp are updated and
// returned — a timestamp on receipt and one on sending, the route once, on
// sending; a completed source route is reversed into the reply's route;
// other options are not returned. Replies are rate-limited (§4.3.2.8 lets
// a router limit echo replies too): a flood gets a bounded trickle back.
// TCP segments to the router get the reset of a closed port (RFC 9293
// §3.10.7.1) — TCP has its own way to say "nobody here", so not a port
// unreachable (RFC 1812 §4.3.3.1, code 3) — under the same limit.
import { maskOf } from '../net/addr.js';
import { Drop } from '../packet/drops.js';
import type { Port } from '../ports/port.js';
import { IcmpType, icmpQueryToReply, icmpReplyType } from '../wire/icmp.js';
import { type Ipv4View, writeU32 } from '../wire/ipv4.js';
import {
  IpOption, keepOnlyOptions, optionFull, recordRoute, reverseSourceRoute, sourceRouteNext, sourceRouteSkip, standardTimestamp,
} from '../wire/ipv4-options.js';
import { TCP_HEADER_LEN, TcpFlag, TcpView, buildTcpReset } from '../wire/tcp.js';
import type { RouterAddresses } from './addresses.js';
import type { BatchClock } from './batch-clock.js';
import type { OptionProcessing } from './ip-options.js';
import type { Output } from './output.js';
import { TokenBucket, type RateLimit } from './token-bucket.js';

export class IcmpServer {
  private readonly bucket: TokenBucket;
  private readonly tcp = new TcpView();
  /** Replies (ICMP and TCP resets) sent, and left unsent by the rate limit. */
  sent = 0;
  suppressed = 0;

  constructor(
    private readonly addrs: RouterAddresses,
    private readonly output: Output,
    private readonly options: OptionProcessing,
    limit: RateLimit,
    clock: BatchClock,
    private readonly now: () => number = Date.now,
  ) {
    this.bucket = new TokenBucket(limit, clock);
  }
  setLimit(limit: RateLimit): void {
    this.bucket.setLimit(limit);
  }

  /**
   * An ICMP message for the router (not a fragment); `withOptions`: its
   * header has options, already parsed by `options`. Returns a Drop
   * reason, or -1 when answered.
   */
  answer(ingress: Port, ip: Ipv4View, withOptions: boolean): number {
    const b = ip.buf, off = ip.off;
    const hl = ip.headerLength, total = ip.totalLength;
    const io = off + hl;
    if (total - hl < 8) return Drop.TRUNCATED;
    const type = b[io];
    if (icmpReplyType(type) < 0) return Drop.LOCAL_UNHANDLED; // replies, errors, unknown types: RFC 1812 §4.3.2.1
    const requestDst = ip.dst;
    const unicast = this.addrs.isOwn(requestDst);
    const src = ip.src;
    // Echo and timestamp to a broadcast MAY be ignored (§4.3.3.6, §4.3.3.8); a mask request
    // comes broadcast from a host that may not know its address yet (RFC 950).
    if (type !== IcmpType.ADDRESS_MASK_REQUEST && (!unicast || src === 0)) return Drop.LOCAL_UNHANDLED;
    const time = standardTimestamp(this.now());
    if (!icmpQueryToReply(b, io, total - hl, time, maskOf(ingress.prefixLen))) return Drop.LOCAL_UNHANDLED;
    if (!this.bucket.take()) {
      this.suppressed++;
      return Drop.REPLY_RATE_LIMITED;
    }

    let dst = src;
    const o = this.options.opts;
    if (withOptions) {
      if (o.ts >= 0) this.options.stamp(b, o.ts, requestDst, false); // received (§4.2.2.1)
      keepOnlyOptions(b, off, o.rr, o.ts, o.sr);
      if (o.sr >= 0) {
        dst = reverseSourceRoute(b, o.sr, src);
        // The route may have reached the router through several of its own addresses: those are done.
        while (this.addrs.isOwn(dst) && b[o.sr] !== IpOption.NOP && !optionFull(b, o.sr)) {
          dst = sourceRouteNext(b, o.sr);
          sourceRouteSkip(b, o.sr);
        }
        // A recorded route is the sender's word: one whose way back starts at no host (a broadcast, a group,
        // a martian, the router) gets no reply — else a forged route turns the router into a broadcaster.
        if (src !== 0 && !this.addrs.isOtherHost(dst)) return Drop.SOURCE_ROUTE_FAILED;
      }
    }
    let port: Port | null;
    let nextHop: number;
    if (src === 0) {
      // RFC 950: a requester without an address gets the reply broadcast on its link.
      dst = 0xffffffff;
      port = ingress;
      nextHop = dst;
    } else {
      port = this.output.portFor(dst);
      if (port === null) return Drop.NO_ROUTE;
      nextHop = this.output.nextHop;
    }
    if (withOptions) {
      if (o.ts >= 0) this.options.stamp(b, o.ts, port.address, true); // sent (§4.2.2.1)
      if (o.rr >= 0) recordRoute(b, o.rr, port.address);
    }
    writeU32(b, off + 12, unicast ? requestDst : port.address);
    writeU32(b, off + 16, dst);
    b[off + 8] = 64;
    ip.fillChecksum();
    const drop = this.output.send(port, off, total, nextHop);
    if (drop < 0) this.sent++;
    return drop;
  }

  /** A TCP segment to the router's unicast address: no port listens, answer with a reset. */
  reset(ip: Ipv4View): number {
    const seglen = ip.payloadLength;
    const t = this.tcp.attach(ip.buf, ip.payloadOffset, seglen);
    if (seglen < TCP_HEADER_LEN || ip.src === 0 || !t.checksumOk(ip.src, ip.dst, seglen)) return Drop.LOCAL_UNHANDLED;
    if (t.headerLength < TCP_HEADER_LEN || t.headerLength > seglen) return Drop.LOCAL_UNHANDLED;
    const flags = t.flags;
    if (flags & TcpFlag.RST) return Drop.LOCAL_UNHANDLED; // never answer a reset
    if (!this.bucket.take()) {
      this.suppressed++;
      return Drop.REPLY_RATE_LIMITED;
    }
    const port = this.output.portFor(ip.src);
    if (port === null) return Drop.NO_ROUTE;
    const nextHop = this.output.nextHop;
    const dataLen = seglen - t.headerLength;
    const segLen = dataLen + (flags & TcpFlag.SYN ? 1 : 0) + (flags & TcpFlag.FIN ? 1 : 0);
    const off = this.output.scratch(40);
    const len = buildTcpReset(this.output.arena.bytes, off, ip.dst, ip.src, t.dstPort, t.srcPort,
      (t.seq + segLen) >>> 0, flags & TcpFlag.ACK ? t.ack : -1);
    const drop = this.output.send(port, off, len, nextHop);
    if (drop < 0) this.sent++;
    return drop;
  }
}
