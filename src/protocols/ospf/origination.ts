// Our own LSAs (RFC 2328 §12.4): the router LSA (every interface in area 0:
// point-to-point links to Full neighbours, stub networks, transit networks
// with a DR), a network LSA for each broadcast network where we are DR, and
// AS-external LSAs for the connected/static routes we redistribute. What we
// want is computed afresh and compared with the database: a new or changed
// LSA is originated (not sooner than MinLSInterval after the last instance,
// unless a lost adjacency makes it urgent), one we no longer want is flushed
// (§14.1). Our LSAs from a previous life that neighbours hand back are taken
// over with a higher sequence number, or flushed (§13.4).
import type { TimerHandle } from '../../control/clock.js';
import { maskOf } from '../../net/addr.js';
import {
  INITIAL_SEQUENCE, LS_INFINITY, LSA_HEADER_LEN, LinkType, LsaType, MAX_AGE, MAX_SEQUENCE, RouterFlag, fillLsaChecksum, routerLsaLength,
  writeExternalBody, writeLsaHeader, writeNetworkBody, writeRouterBody, type RouterLink,
} from '../../wire/ospf-lsa.js';
import { MIN_LS_ARRIVAL_MS } from './flooding.js';
import { IfState } from './interface.js';
import { LsaEntry, lsaKey, type LsaKey } from './lsdb.js';
import { NbrState } from './neighbour.js';
import { OUR_OPTIONS, type OspfProtocol } from './ospf.js';
import type { SpfRoot } from './spf.js';

/** MinLSInterval: at most one new instance of an LSA this often (RFC 2328 says 5 s; twice the peers' MinLSArrival is enough). */
export const MIN_LS_INTERVAL_MS = 2000;
/** A lost adjacency is told sooner: just past the peers' MinLSArrival. */
const URGENT_INTERVAL_MS = MIN_LS_ARRIVAL_MS + 100;

interface WantedLsa {
  type: number;
  id: number;
  /** The whole LSA, sequence and checksum still to be set. */
  bytes: Uint8Array;
}

export class Originator {
  private readonly lastOriginated = new Map<LsaKey, number>();
  private readonly forced = new Set<LsaKey>();
  private timer: TimerHandle | undefined;
  private delayed: TimerHandle | undefined;
  private urgent = false;

  constructor(private readonly o: OspfProtocol) {}

  /** Compare what we want with the database soon (on the next turn, so a burst of changes makes one LSA). */
  schedule(urgent = false): void {
    if (!this.o.running) return;
    this.urgent ||= urgent;
    if (this.timer !== undefined) return;
    this.timer = this.o.clock.setTimer(0, () => {
      this.timer = undefined;
      const u = this.urgent;
      this.urgent = false;
      this.sync(false, u);
      this.o.flooding.flushOutboxes();
    });
  }

  stop(): void {
    for (const t of [this.timer, this.delayed]) if (t !== undefined) this.o.clock.clearTimer(t);
    this.timer = this.delayed = undefined;
  }

  /** A newer instance of one of our LSAs came from a neighbour (§13.4): outdo it, or flush it. */
  selfReceived(e: LsaEntry): void {
    this.forced.add(e.key);
    this.schedule(true);
  }

  /**
   * An adjacency came up: a new instance of our router LSA even if its
   * contents are as they were before a quick flap, so the neighbour's
   * database changes and it recalculates (BIRD does not on its own).
   */
  adjacencyUp(): void {
    this.forced.add(lsaKey(LsaType.ROUTER, this.o.routerId, this.o.routerId));
    this.schedule();
  }

  /** LSRefreshTime: a new instance of an unchanged LSA. */
  refresh(e: LsaEntry): void {
    this.forced.add(e.key);
    this.schedule();
  }

  /** Originate what is new or changed, flush what is no longer wanted. `all`: originate everything (start). */
  sync(all: boolean, urgent = false): void {
    const o = this.o;
    if (!o.running) return;
    const now = o.clock.now();
    const wanted = this.wanted();
    let wait = Infinity;
    for (const [key, w] of wanted) {
      const e = o.lsdb.get(key);
      const forced = all || this.forced.has(key);
      if (e && !e.maxAged && !forced && e.sameContents(w.bytes, 0, w.bytes.length)) continue;
      // Not sooner than MinLSInterval after our last instance, nor than the receivers' MinLSArrival after it last went out.
      const last = this.lastOriginated.get(key) ?? -Infinity;
      const earliest = Math.max(last + (urgent || forced ? URGENT_INTERVAL_MS : MIN_LS_INTERVAL_MS), (e?.lastSentAt ?? -Infinity) + URGENT_INTERVAL_MS);
      if (now < earliest) {
        wait = Math.min(wait, earliest - now);
        continue;
      }
      this.forced.delete(key);
      this.originate(key, w, e, now);
    }
    for (const e of [...o.lsdb.all()]) {
      if (!e.maxAged && o.isSelfOriginated(e.type, e.id, e.adv) && !wanted.has(e.key)) this.flush(e, now);
    }
    if (wait !== Infinity && this.delayed === undefined) {
      this.delayed = o.clock.setTimer(wait, () => {
        this.delayed = undefined;
        this.sync(false);
        this.o.flooding.flushOutboxes();
      });
    }
  }

  private originate(key: LsaKey, w: WantedLsa, e: LsaEntry | undefined, now: number): void {
    const o = this.o;
    if (e && e.seq === MAX_SEQUENCE) {
      // §12.1.6: the sequence space is spent: flush, and start again once it is gone.
      if (!e.maxAged) this.flush(e, now);
      return;
    }
    const seq = e ? (e.seq + 1) | 0 : INITIAL_SEQUENCE;
    const bytes = w.bytes;
    bytes[12] = seq >>> 24;
    bytes[13] = seq >>> 16;
    bytes[14] = seq >>> 8;
    bytes[15] = seq;
    fillLsaChecksum(bytes, 0, bytes.length);
    const entry = new LsaEntry(bytes, now, true);
    o.flooding.install(entry, e);
    o.flooding.flood(entry);
    this.lastOriginated.set(key, now);
    o.counters.lsasOriginated++;
  }

  /** §14.1: premature aging — the same instance at MaxAge, flooded, removed once acknowledged. */
  private flush(e: LsaEntry, now: number): void {
    const bytes = e.bytes.slice();
    bytes[0] = MAX_AGE >>> 8;
    bytes[1] = MAX_AGE & 0xff;
    const entry = new LsaEntry(bytes, now, true);
    this.o.flooding.install(entry, e);
    this.o.flooding.flood(entry);
    this.o.counters.lsasFlushed++;
  }

  /** Every LSA we want in the database now. */
  private wanted(): Map<LsaKey, WantedLsa> {
    const o = this.o;
    const rid = o.routerId;
    const out = new Map<LsaKey, WantedLsa>();
    out.set(lsaKey(LsaType.ROUTER, rid, rid), { type: LsaType.ROUTER, id: rid, bytes: this.routerLsa() });
    for (const iface of o.interfaces) {
      if (iface.state !== IfState.DR) continue;
      const full = iface.fullNeighbours();
      if (full.length === 0) continue;
      const routers = [rid, ...full.map((n) => n.routerId)];
      const bytes = new Uint8Array(LSA_HEADER_LEN + 4 + 4 * routers.length);
      writeLsaHeader(bytes, 0, 0, OUR_OPTIONS, LsaType.NETWORK, iface.address, rid, 0, bytes.length);
      writeNetworkBody(bytes, 0, iface.mask, routers);
      out.set(lsaKey(LsaType.NETWORK, iface.address, rid), { type: LsaType.NETWORK, id: iface.address, bytes });
    }
    for (const x of this.externals()) out.set(lsaKey(LsaType.AS_EXTERNAL, x.id, rid), x);
    return out;
  }

  /** Our router LSA as it would be originated now (sequence 0, no checksum). */
  routerLsa(): Uint8Array {
    const o = this.o;
    const links: RouterLink[] = [];
    for (const iface of o.interfaces) {
      if (!iface.up) continue;
      const stub: RouterLink = { id: iface.network, data: iface.mask, type: LinkType.STUB, metric: iface.cost };
      if (iface.passive) {
        links.push(stub);
      } else if (iface.pointToPoint) {
        for (const n of iface.fullNeighbours()) links.push({ id: n.routerId, data: iface.address, type: LinkType.POINT_TO_POINT, metric: iface.cost });
        links.push(stub);
      } else {
        const drNeighbour = [...iface.neighbours.values()].find((n) => n.address === iface.dr);
        const transit = iface.state !== IfState.WAITING && iface.dr !== 0 &&
          (iface.dr === iface.address ? iface.fullNeighbours().length > 0 : drNeighbour?.state === NbrState.FULL);
        links.push(transit ? { id: iface.dr, data: iface.address, type: LinkType.TRANSIT, metric: iface.cost } : stub);
      }
    }
    const len = routerLsaLength(links.length);
    const bytes = new Uint8Array(len);
    writeLsaHeader(bytes, 0, 0, OUR_OPTIONS, LsaType.ROUTER, o.routerId, o.routerId, 0, len);
    writeRouterBody(bytes, 0, o.config.redistribute.length > 0 ? RouterFlag.E : 0, links);
    return bytes;
  }

  /** AS-external LSAs for the routes we redistribute (appendix E: a second prefix on the same address gets its host bits set). */
  private externals(): WantedLsa[] {
    const o = this.o;
    const rid = o.routerId;
    const redistribute = o.config.redistribute;
    if (redistribute.length === 0) return [];
    const ours = new Set(o.interfaces.map((i) => `${i.network}/${i.port.prefixLen}`));
    const routes = o.ctx.table.selected(redistribute.map((r) => r.source))
      .filter((r) => !ours.has(`${r.prefix}/${r.len}`))
      .sort((a, b) => a.len - b.len || a.prefix - b.prefix);
    const ids = new Set<number>();
    const out: WantedLsa[] = [];
    for (const r of routes) {
      const cfg = redistribute.find((x) => x.source === r.source)!;
      const mask = maskOf(r.len);
      let id = r.prefix >>> 0;
      if (ids.has(id)) id = (r.prefix | ~mask) >>> 0;
      if (ids.has(id)) continue;
      ids.add(id);
      const metric = cfg.metric ?? (r.source === 'connected' ? 1 : Math.min(Math.max(r.metric, 0), LS_INFINITY - 1));
      const bytes = new Uint8Array(LSA_HEADER_LEN + 16);
      writeLsaHeader(bytes, 0, 0, OUR_OPTIONS, LsaType.AS_EXTERNAL, id, rid, 0, bytes.length);
      writeExternalBody(bytes, 0, mask, cfg.metricType === 2, metric, 0, 0);
      out.push({ type: LsaType.AS_EXTERNAL, id, bytes });
    }
    return out;
  }

  /** What SPF needs of this router: its LSA as of now, its ports and neighbours. */
  spfRoot(): SpfRoot {
    const o = this.o;
    // A draining port is no first hop for new paths (its adjacencies stay until it blocks).
    const up = o.interfaces.filter((i) => i.up && i.port.state !== 'draining');
    return {
      routerId: o.routerId,
      routerLsa: this.routerLsa(),
      portByAddress: (addr) => up.find((i) => i.address === addr >>> 0)?.port.index,
      neighbourAddress: (port, rid) => {
        const iface = up.find((i) => i.port.index === port);
        const n = iface?.byRouterId(rid);
        return n && n.state === NbrState.FULL ? n.address : 0;
      },
      portOnLink: (addr) => up.find((i) => !i.passive && i.port.onLink(addr))?.port.index,
    };
  }
}
