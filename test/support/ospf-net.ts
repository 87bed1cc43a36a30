// Harness routers running BFD and OSPF, joined by links the test controls:
// each link is a segment — a datagram sent on a member port arrives (1 ms
// later) at every other member, as multicast on a point-to-point link or an
// Ethernet segment does. A segment can be cut, and a router's port blocked.
import { NO_AUTH } from '../../src/config/auth-config.js';
import type { OspfConfig, OspfPortConfig } from '../../src/config/router-config.js';
import { formatPrefix, parseAddress } from '../../src/net/addr.js';
import { BfdProtocol } from '../../src/protocols/bfd/bfd.js';
import { OSPF_DISTANCE, OspfProtocol } from '../../src/protocols/ospf/ospf.js';
import { FakeClock } from './fake-clock.js';
import { ProtocolHarness } from './protocol-harness.js';

export interface RouterSpec {
  ports: Record<string, string>;
  ospf: Partial<Omit<OspfConfig, 'ports'>> & { ports: (Partial<OspfPortConfig> & { port: string })[] };
  /** Static routes: [prefix, port, via]. */
  statics?: [string, string, string][];
  /** Configured BFD sessions (100 ms × 3): [port, peer]. */
  bfdSessions?: [string, string][];
}

export const portDefaults = (p: Partial<OspfPortConfig> & { port: string }): OspfPortConfig => ({
  cost: 10, passive: false, network: 'point-to-point', priority: 1, helloInterval: 1, deadInterval: 4, retransmitInterval: 5, bfd: false,
  auth: NO_AUTH, ...p,
});

export function ospfConfig(c: RouterSpec['ospf']): OspfConfig {
  return { routerId: null, redistribute: [], lsdbLimit: 10_000, ...c, ports: c.ports.map(portDefaults) };
}

export class OspfRouter {
  bfd!: BfdProtocol;
  ospf!: OspfProtocol;
  constructor(readonly name: string, readonly h: ProtocolHarness, readonly spec: RouterSpec) {}

  start(): this {
    const h = this.h;
    const sessions = (this.spec.bfdSessions ?? []).map(([port, peer]) => ({ port, peer: parseAddress(peer), interval: 100, multiplier: 3, auth: null }));
    this.bfd = new BfdProtocol(h.context('bfd', 255), { interval: 100, multiplier: 3, sessions, auth: NO_AUTH, ports: [] });
    this.ospf = new OspfProtocol(h.context('ospf', OSPF_DISTANCE, this.bfd), ospfConfig(this.spec.ospf));
    this.bfd.start();
    this.ospf.start();
    return this;
  }

  stop(): void {
    this.ospf.stop();
    this.bfd.stop();
  }

  get plugins() {
    return [this.bfd, this.ospf];
  }

  /** The OSPF route to `prefix` in the RIB (the selected one), if any. */
  route(prefix: string) {
    return this.h.rib.routes().find((r) => r.source === 'ospf' && r.selected && formatPrefix(r.prefix, r.len) === prefix);
  }

  neighbourStates(): string[] {
    return this.ospf.interfaces.flatMap((i) => [...i.neighbours.values()].map((n) => `${i.port.name}:${n.state}`));
  }
}

export class OspfNet {
  readonly clock = new FakeClock();
  readonly routers = new Map<string, OspfRouter>();
  private readonly segments = new Map<string, { members: [string, string][]; up: boolean; drop?: (d: Uint8Array) => boolean }>();

  add(name: string, spec: RouterSpec): OspfRouter {
    const h = new ProtocolHarness(this.clock, spec.ports);
    for (const p of h.ports) h.rib.add({ prefix: p.network, len: p.prefixLen, port: p.index, nextHop: 0, metric: 0, source: 'connected', distance: 0 });
    for (const [prefix, port, via] of spec.statics ?? []) {
      const [a, len] = prefix.split('/');
      h.rib.add({ prefix: parseAddress(a!), len: Number(len), port: h.port(port).index, nextHop: parseAddress(via), metric: 1, source: 'static', distance: 1 });
    }
    const r = new OspfRouter(name, h, spec);
    h.wire = (port, datagram) => this.send(name, port.name, datagram);
    this.routers.set(name, r);
    return r;
  }

  /** A segment joining router ports, e.g. link('ab', ['a', 'link'], ['b', 'link']). */
  link(name: string, ...members: [string, string][]): void {
    this.segments.set(name, { members, up: true });
  }

  cut(name: string): void {
    this.segments.get(name)!.up = false;
  }

  restore(name: string): void {
    this.segments.get(name)!.up = true;
  }

  /** Drop datagrams on a segment that `pred` picks (e.g. every LSAck). */
  filter(name: string, pred: ((d: Uint8Array) => boolean) | undefined): void {
    this.segments.get(name)!.drop = pred;
  }

  private send(router: string, port: string, datagram: Uint8Array): void {
    for (const seg of this.segments.values()) {
      if (!seg.members.some(([r, p]) => r === router && p === port)) continue;
      if (!seg.up || seg.drop?.(datagram)) return;
      for (const [r, p] of seg.members) {
        if (r === router && p === port) continue;
        const to = this.routers.get(r)!;
        this.clock.setTimer(1, () => {
          if (to.h.port(p).state !== 'blocked') to.h.deliver(p, datagram);
        });
      }
    }
  }

  start(): void {
    for (const r of this.routers.values()) r.start();
  }

  stop(): void {
    for (const r of this.routers.values()) r.stop();
  }
}
