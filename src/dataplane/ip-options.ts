// IP options in the packets the router handles (RFC 791 §3.1; RFC 1812
// §4.2.2.1, §5.2.2, §5.2.4.1, §5.3.13). Only packets whose header is longer
// than 20 bytes come here; the forwarder's fast path never does.
//
//   check()          malformed options → ICMP Parameter Problem with the
//                    pointer at the offending octet (§4.3.3.5), dropped
//   sourceRouteHop() addressed to the router with a source route not yet
//                    done: the next address becomes the destination
//   forward()        once the egress port is known: the source-route slot,
//                    Record Route and Timestamp get the router's address
//                    on that port (§4.2.2.2) and the time
// Unrecognised options (and security, stream id, router alert) pass
// through unchanged (§5.3.13.1-3).
import { Drop } from '../packet/drops.js';
import type { Port } from '../ports/port.js';
import { IcmpType } from '../wire/icmp.js';
import type { Ipv4View } from '../wire/ipv4.js';
import {
  Ipv4Options, optionFull, recordRoute, sourceRouteNext, sourceRouteRecord, sourceRouteSkip, stampTimestamp,
  standardTimestamp, timestampPrespecified,
} from '../wire/ipv4-options.js';
import type { RouterAddresses } from './addresses.js';
import type { IcmpErrors } from './icmp-errors.js';

/** The header byte of IPv4 without options: version 4, IHL 5. */
export const PLAIN_IPV4 = 0x45;

/** Offset of the destination address in the IPv4 header: the Parameter Problem pointer for a misused strict route. */
export const DST_FIELD = 16;

export class OptionProcessing {
  /** The options of the packet last check()ed. */
  readonly opts = new Ipv4Options();
  /** The packet last check()ed is a source-route hop: its slot gets the egress address in forward(). */
  private hop = false;

  constructor(
    private readonly addrs: RouterAddresses,
    private readonly icmp: IcmpErrors,
    /** Wall clock for timestamps, ms since the epoch. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Parse the options of `ip`; returns Drop.BAD_OPTIONS (after a Parameter Problem) or -1. */
  check(ingress: Port, ip: Ipv4View): number {
    this.hop = false;
    if (this.opts.parse(ip.buf, ip.off)) return -1;
    this.icmp.send(IcmpType.PARAMETER_PROBLEM, 0, this.opts.problem << 24, ingress, ip);
    return Drop.BAD_OPTIONS;
  }

  /**
   * RFC 1812 §5.2.2: a strict source route must not reach a router that is
   * not its next hop — asked of a packet not addressed to the router (the
   * forwarder drops it with a Parameter Problem at the destination address).
   */
  get strictTransit(): boolean {
    return this.opts.sr >= 0 && this.opts.strict;
  }

  /** A source route whose next address is still to be visited (the packet is addressed to the router). */
  get pendingSourceRoute(): boolean {
    return this.opts.sr >= 0 && !optionFull(this.opts.buf, this.opts.sr);
  }

  /** The last hop was strict: the next one must be on a connected network. */
  get strictHop(): boolean {
    return this.hop && this.opts.strict;
  }

  get isSourceRouteHop(): boolean {
    return this.hop;
  }

  /**
   * The packet is addressed to the router and its source route goes on
   * (RFC 791; RFC 1812 §5.2.4.1): the destination becomes the next address
   * of the route, skipping the router's own. Returns true when the packet
   * is now to be forwarded, false when the route ended here (deliver it).
   */
  sourceRouteHop(ip: Ipv4View): boolean {
    const b = ip.buf, o = this.opts.sr;
    let skipped = false;
    while (!optionFull(b, o)) {
      const next = sourceRouteNext(b, o);
      if (!this.addrs.isOwn(next)) {
        if (skipped) ip.fillChecksum();
        ip.setDstIncremental(next);
        this.hop = true;
        return true;
      }
      sourceRouteSkip(b, o);
      skipped = true;
    }
    if (skipped) ip.fillChecksum();
    return false;
  }

  /**
   * The packet leaves by `out`: record the hop, the route and the time
   * (RFC 1812 §5.3.13.4-6). The caller recomputes the header checksum.
   */
  forward(ip: Ipv4View, out: Port): void {
    const b = ip.buf, o = this.opts;
    if (this.hop) sourceRouteRecord(b, o.sr, out.address);
    if (o.rr >= 0) recordRoute(b, o.rr, out.address);
    if (o.ts >= 0) this.stamp(b, o.ts, out.address, false);
  }

  /**
   * One timestamp entry (RFC 1812 §4.2.2.1, §5.3.13.6): flag 1 records
   * `addr`; flag 3 stamps when the next prespecified address is one of the
   * router's (any of them, §5.3.13.6) — or, with `onlyAddr`, exactly
   * `addr` (a datagram the router originates, §4.2.2.1).
   */
  stamp(b: Uint8Array, ts: number, addr: number, onlyAddr: boolean): void {
    const pre = timestampPrespecified(b, ts);
    const ours = pre !== 0 && (onlyAddr ? pre === addr >>> 0 : this.addrs.isOwn(pre));
    stampTimestamp(b, ts, addr, standardTimestamp(this.now()), ours);
  }
}
