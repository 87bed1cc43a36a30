// A ProtocolContext without a Router: ports as plain PortViews, a real RIB
// (so imported routes are selected as in the daemon), a fake clock, and UDP
// that goes where the test says — to another harness (two protocols talking
// over a link), or into a list. Protocols need nothing more than this to run.
import type { Logger } from 'pino';
import { silentLogger } from '../../src/daemon/log.js';
import type { NeighbourLiveness } from '../../src/control/liveness.js';
import type { PacketReceiver, PortState, PortView, ProtocolContext, RouterPlugin, SelectedRoute } from '../../src/control/protocol.js';
import { OperationError } from '../../src/control/errors.js';
import { maskOf, parseInterfaceAddress } from '../../src/net/addr.js';
import { Rib, type Route } from '../../src/routing/rib.js';
import { IPV4_HEADER_LEN, IpProto, Ipv4View, writeIpv4Header } from '../../src/wire/ipv4.js';
import { UDP_HEADER_LEN, buildUdpDatagram } from '../../src/wire/udp.js';
import { FakeClock } from './fake-clock.js';

export class TestPort implements PortView {
  readonly address: number;
  readonly prefixLen: number;
  readonly network: number;
  readonly broadcast: number;
  readonly mtu = 1500;
  state: PortState = 'up';
  /** Sends nothing (a block's last words are out). */
  muted = false;

  constructor(readonly index: number, readonly name: string, cidr: string) {
    const p = parseInterfaceAddress(cidr);
    this.address = p.addr;
    this.prefixLen = p.len;
    this.network = (p.addr & maskOf(p.len)) >>> 0;
    this.broadcast = p.len >= 31 ? 0xffffffff : (this.network | ~maskOf(p.len)) >>> 0;
  }

  get blocked(): boolean { return this.state === 'blocked'; }
  onLink(a: number): boolean { return ((a & maskOf(this.prefixLen)) >>> 0) === this.network; }
  isNeighbourAddress(a: number): boolean {
    return this.onLink(a) && a !== this.address && (this.prefixLen >= 31 || (a !== this.network && a !== this.broadcast));
  }
  pointToPointPeer(): number {
    if (this.prefixLen === 31) return (this.address ^ 1) >>> 0;
    if (this.prefixLen === 30) return this.address - this.network === 1 ? this.network + 2 : this.network + 1;
    return 0;
  }
}

const select = (r: Route): SelectedRoute => ({ prefix: r.prefix, len: r.len, port: r.port, nextHop: r.nextHop, metric: r.metric, source: r.source });

export class ProtocolHarness {
  readonly ports: TestPort[];
  readonly rib: Rib;
  /** UDP receivers by port; IP-protocol receivers by −protocol (so one map serves both). */
  readonly receivers = new Map<number, PacketReceiver>();
  /** Where sent datagrams go: (port, IPv4 datagram bytes). Default: kept in `sent`. */
  wire: (port: TestPort, datagram: Uint8Array) => void = (port, d) => this.sent.push({ port: port.name, datagram: d });
  readonly sent: { port: string; datagram: Uint8Array }[] = [];
  /** The log the protocols made from context() write to (set it before they are made to read what they say). */
  log: Logger = silentLogger();
  private readonly listeners = new Set<(b: SelectedRoute | null, a: SelectedRoute | null) => void>();
  private readonly scratch = new Uint8Array(2048);
  private readonly ip = new Ipv4View();

  constructor(readonly clock: FakeClock, ports: Record<string, string>) {
    this.ports = Object.entries(ports).map(([name, cidr], i) => new TestPort(i, name, cidr));
    this.rib = new Rib((r) => {
      const state = this.ports[r.port]?.state;
      return state === 'blocked' ? 'port-blocked' : state === 'draining' ? 'port-draining' : null;
    }, (c) => {
      for (const l of this.listeners) l(c.before && select(c.before), c.after && select(c.after));
    });
  }

  port(name: string): TestPort {
    const p = this.ports.find((x) => x.name === name);
    if (!p) throw new OperationError('not-found', `no port ${name}`);
    return p;
  }

  context(source: string, distance: number, liveness?: NeighbourLiveness): ProtocolContext {
    const rib = this.rib;
    return {
      routerName: 'harness',
      log: this.log,
      clock: this.clock,
      ports: this.ports,
      port: (name) => this.port(name),
      routes: {
        source,
        distance,
        import: (r) => rib.add({ ...r, source, distance }).id,
        update: (id, change) => rib.update(id, change),
        withdraw: (id, cause) => void rib.remove(id, cause),
      },
      table: {
        selected: (sources) => rib.routes().filter((r) => r.selected && sources.includes(r.source)).map(select),
        onChange: (l) => {
          this.listeners.add(l);
          return () => void this.listeners.delete(l);
        },
      },
      packets: {
        listenUdp: (udpPort, receiver) => void this.receivers.set(udpPort, receiver),
        udpPayload: () => ({ bytes: this.scratch, off: IPV4_HEADER_LEN + UDP_HEADER_LEN }),
        sendUdp: (port, off, len, h) => {
          const p = this.ports[port.index]!;
          if (p.muted) return false;
          const total = buildUdpDatagram(this.scratch, off - IPV4_HEADER_LEN - UDP_HEADER_LEN, p.address, h.dst, h.srcPort, h.dstPort, len, h.ttl, h.tos);
          this.wire(p, this.scratch.slice(0, total));
          return true;
        },
        listenIp: (protocol, receiver) => void this.receivers.set(-protocol, receiver),
        ipPayload: () => ({ bytes: this.scratch, off: IPV4_HEADER_LEN }),
        sendIp: (port, off, len, h) => {
          const p = this.ports[port.index]!;
          if (p.muted) return false;
          writeIpv4Header(this.scratch, off - IPV4_HEADER_LEN, IPV4_HEADER_LEN + len, h.protocol, p.address, h.dst, h.ttl, h.tos);
          this.wire(p, this.scratch.slice(0, IPV4_HEADER_LEN + len));
          return true;
        },
        isOwnAddress: (a) => this.ports.some((p) => p.address === a),
      },
      get liveness(): NeighbourLiveness {
        if (!liveness) throw new Error('no liveness in this harness');
        return liveness;
      },
    };
  }

  /** A datagram arrives on `port`: handed to the receiver of its UDP port (or IP protocol), as local delivery does. */
  deliver(port: string, datagram: Uint8Array): number {
    const ip = this.ip.attach(datagram, 0, datagram.length);
    const receiver = this.receivers.get(ip.protocol === IpProto.UDP ? ip.dstPort : -ip.protocol);
    return receiver ? receiver(this.port(port), ip) : -2;
  }

  /** The router's block, as it runs it: routes through the port go first, then the plugins' last words, then silence. */
  block(name: string, plugins: RouterPlugin[]): void {
    const p = this.port(name);
    p.state = 'blocked';
    this.rib.reevaluate((r) => r.port === p.index, 'port-blocked');
    for (const plugin of plugins) plugin.portBlocked?.(p);
    p.muted = true;
  }

  /** The router's drain, as it starts it: routes through the port become its last resort, then the plugins are told. */
  drain(name: string, plugins: RouterPlugin[]): void {
    const p = this.port(name);
    p.state = 'draining';
    this.rib.reevaluate((r) => r.port === p.index, 'port-draining');
    for (const plugin of plugins) plugin.portDraining?.(p);
  }
}
