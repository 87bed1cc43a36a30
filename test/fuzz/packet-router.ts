// The router the packet-path fuzzer drives, and what the oracle knows of it:
// its addresses (own, attached broadcasts and networks), the virtual
// service's backends, the MTUs, the Ethernet port's MAC and its one
// configured neighbour. Four TUN ports and one Ethernet port (a /30 whose
// only other address is a configured neighbour, so no next hop ever waits
// for ARP); source policy, the virtual-service NAT, RIP and BFD.
import type { PortConfig } from '../../src/config/router-config.js';
import { MemoryDevice } from '../support/memory-device.js';
import { ip } from './reference.js';

export const ETH_MAC = Uint8Array.from([0x02, 0, 0, 0, 0, 0x14]);
export const NEIGHBOUR_MAC = Uint8Array.from([0x02, 0, 0, 0, 0, 0x42]);
export const NEIGHBOUR = ip('10.0.14.2');

export const ROUTER_CONFIG = {
  router: 'fuzz',
  icmpRateLimit: { rate: 1_000_000, burst: 1_000_000 },
  replyRateLimit: { rate: 1_000_000, burst: 1_000_000 },
  ports: [
    { name: 'lan', device: 'f-lan', address: '10.0.1.1/24' },
    { name: 'wan', device: 'f-wan', address: '10.0.12.1/30' },
    { name: 'r3', device: 'f-r3', address: '10.0.13.1/30', mtu: 576 },
    { name: 'srv', device: 'f-srv', address: '10.0.3.1/24', mtu: 1400 },
    { name: 'eth', type: 'ethernet', device: 'f-eth', address: '10.0.14.1/30', mtu: 1280, neighbours: [{ address: '10.0.14.2', mac: '02:00:00:00:00:42' }] },
  ],
  routes: [
    { prefix: '1.1.1.0/24', port: 'wan', via: '10.0.12.2' },
    { prefix: '172.16.0.0/12', port: 'r3', via: '10.0.13.2' },
    { prefix: '192.168.0.0/16', port: 'wan', via: '10.0.12.2', bfd: true },
    { prefix: '198.18.0.0/15', port: 'eth', via: '10.0.14.2' },
  ],
  bfd: { interval: 100, multiplier: 3, sessions: [{ port: 'wan', peer: '10.0.12.2' }, { port: 'r3', peer: '10.0.13.2' }] },
  rip: { ports: [{ port: 'wan', bfd: true }, { port: 'r3', cost: 2 }, { port: 'lan', passive: true }], redistribute: ['connected', 'static'] },
  policy: [
    { name: 'appliance', from: '10.0.1.7', port: 'r3', via: '10.0.13.2' },
    { name: 'web', from: '10.0.1.0/24', to: '1.1.1.0/24', protocol: 'tcp', dstPorts: '80', port: 'wan', via: '10.0.12.2' },
    { name: 'dns', from: '10.0.1.9', protocol: 'udp', dstPorts: '53', port: 'srv' },
  ],
  virtualServices: [{
    name: 'svc', address: '10.0.100.1', idleTimeout: 30,
    backends: [{ name: 's2', address: '10.0.3.20', sources: ['10.0.1.7/32'] }, { name: 's1', address: '10.0.3.10' }],
  }],
};

/** A memory device for a port of any config: an Ethernet port's gets a MAC (so the port gets its link layer). */
export function memoryDeviceFor(pc: PortConfig): MemoryDevice {
  return new MemoryDevice(pc.device, pc.type === 'ethernet' ? ETH_MAC : undefined);
}

export const VIP = ip('10.0.100.1');
/** The service's backends: 10.0.1.7 goes to the first, everyone else to the second. */
export const BACKENDS = [ip('10.0.3.20'), ip('10.0.3.10')];
export const backendFor = (src: number): number => (src === ip('10.0.1.7') ? BACKENDS[0]! : BACKENDS[1]!);

interface Subnet { address: number; len: number; network: number; broadcast: number }
const SUBNETS: Subnet[] = ROUTER_CONFIG.ports.map((p) => {
  const [a, l] = p.address.split('/');
  const address = ip(a!), len = Number(l);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const network = (address & mask) >>> 0;
  return { address, len, network, broadcast: (network | ~mask) >>> 0 };
});

/** The router's unicast addresses: every port's and the virtual service's. */
export const OWN = new Set([...SUBNETS.map((s) => s.address), VIP]);
/** Attached subnets' {prefix, -1} and {prefix, 0} (all are /30 or wider). */
export const BROADCASTS = new Set(SUBNETS.map((s) => s.broadcast));
export const NETWORKS = new Set(SUBNETS.map((s) => s.network));
export const PORT_MTUS = ROUTER_CONFIG.ports.map((p) => p.mtu ?? 1500);

/** RFC 1812 §5.2.3: for the router — own, attached broadcasts, 255.255.255.255, 224.0.0.0/24. */
export const isLocal = (a: number): boolean => OWN.has(a) || BROADCASTS.has(a) || a === 0xffffffff || a >>> 8 === 0xe00000;
export const isLinkLocal = (a: number): boolean => a >>> 16 === 0xa9fe;
