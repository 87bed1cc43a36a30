// Ethernet ports on real veths, with kernel hosts on the other ends:
//   host a (10.0.1.2) ═veth═ [port a] mini router [port b] ═veth═ host b (10.0.2.2)
// The mini router is the Ethernet building blocks and nothing else: an
// EthernetDevice and an EthernetLink per port, answering ping to its own
// addresses and forwarding everything else to the other port (connected
// subnets only), batch in, batch out — the shape the daemon's packet path
// will have. It runs in this test process; the ports sit in namespace r.
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { after, before, test } from 'node:test';
import { parseAddress } from '../../src/net/addr.js';
import { EthernetDevice } from '../../src/ports/ethernet/ethernet-device.js';
import { EthernetLink, Rx } from '../../src/ports/ethernet/ethernet-link.js';
import { L2Drop, L2Event } from '../../src/ports/ethernet/link-counters.js';
import { Lab } from '../../src/testbed/lab.js';
import { inNetns, ip, sleep, waitFor } from '../../src/testbed/shell.js';
import { ArpOp, ArpView } from '../../src/wire/arp.js';
import { EtherType, formatMac } from '../../src/wire/ethernet.js';
import { echoRequestToReply } from '../../src/wire/icmp.js';
import { Ipv4Check, Ipv4View } from '../../src/wire/ipv4.js';
import { snmpCounter, startHttpEcho } from './helpers.js';

const BATCH = 64;
const SLOT = 2048;
const HEADROOM = 64;
const ETH = 14;

/** One Ethernet port of the mini router. */
class MiniPort {
  readonly link: EthernetLink;
  readonly rxBase: number;
  readonly lengths = new Int32Array(BATCH);
  readonly txOffsets = new Int32Array(256);
  readonly txLengths = new Int32Array(256);
  txCount = 0;
  rxFrames = 0;
  txFrames = 0;
  txErrors = 0;
  other!: MiniPort;

  constructor(readonly router: MiniRouter, readonly dev: EthernetDevice, readonly address: number, prefixLen: number) {
    this.rxBase = router.reserve(BATCH * SLOT);
    this.link = new EthernetLink({
      bytes: router.bytes, region: router.reserve(EthernetLink.regionBytes({ mtu: dev.mtu })),
      mac: dev.mac, address, prefixLen, mtu: dev.mtu,
      send: (off, len) => this.enqueue(off, len),
    });
  }

  enqueue(off: number, len: number): void {
    if (this.txCount === 256) this.flush();
    this.txOffsets[this.txCount] = off;
    this.txLengths[this.txCount++] = len;
  }

  flush(): void {
    const n = this.txCount;
    this.txCount = 0;
    if (n) {
      this.txFrames += this.dev.writeBatch(this.router.buffer, this.txOffsets, this.txLengths, n);
      for (let i = 0; i < n; i++) if (this.txLengths[i]! < 0) this.txErrors++;
    }
    this.link.txFlushed();
  }

  start(): void {
    // The frame lands so that its IPv4 packet starts at slot + HEADROOM.
    const first = this.rxBase + HEADROOM - ETH;
    const ip = new Ipv4View();
    const bytes = this.router.bytes;
    this.dev.startReading(this.router.buffer, first, SLOT, BATCH - 1, this.lengths, (n) => {
      this.rxFrames += n;
      for (let i = 0; i < n; i++) {
        const off = first + i * SLOT;
        const kind = this.link.receive(off, this.lengths[i]!);
        if (kind !== Rx.IPV4 && kind !== Rx.IPV4_LINK_GROUP) continue;
        ip.attach(bytes, off + ETH, this.lengths[i]! - ETH);
        if (ip.validate() !== Ipv4Check.OK) continue;
        const len = ip.totalLength;
        if (ip.dst === this.address) {
          if (echoRequestToReply(bytes, off + ETH, len, this.address)) {
            const f = this.link.transmit(off + ETH, len, ip.dst);
            if (f > 0) this.enqueue(off, f);
          }
          continue;
        }
        if (kind === Rx.IPV4_LINK_GROUP || ip.ttl <= 1) continue;
        ip.decrementTtl();
        const f = this.other.link.transmit(off + ETH, len, ip.dst);
        if (f > 0) this.other.enqueue(off, f);
      }
      this.other.flush();
      this.flush();
    });
    this.link.linkUp();
    this.flush();
  }

  async block(): Promise<void> {
    this.dev.setCarrier(false);
    this.link.linkDown();
  }

  async unblock(): Promise<void> {
    this.dev.setCarrier(true);
    await waitFor(`${this.dev.name} running`, () => this.dev.linkRunning(), 5000, 10);
    this.link.linkUp();
    this.flush();
  }
}

class MiniRouter {
  readonly buffer = new ArrayBuffer(4 << 20);
  readonly bytes = new Uint8Array(this.buffer);
  readonly ports: MiniPort[] = [];
  private used = 0;
  private timer: NodeJS.Timeout | undefined;

  reserve(n: number): number {
    const at = (this.used + 63) & ~63;
    this.used = at + n;
    if (this.used > this.buffer.byteLength) throw new RangeError('mini router arena full');
    return at;
  }

  add(dev: EthernetDevice, address: string, prefixLen: number): MiniPort {
    const p = new MiniPort(this, dev, parseAddress(address), prefixLen);
    this.ports.push(p);
    return p;
  }

  start(): void {
    this.ports[0]!.other = this.ports[1] ?? this.ports[0]!;
    if (this.ports[1]) this.ports[1].other = this.ports[0]!;
    for (const p of this.ports) p.start();
    this.timer = setInterval(() => {
      for (const p of this.ports) {
        p.link.tick();
        p.flush();
      }
    }, 100);
  }

  close(): void {
    clearInterval(this.timer);
    for (const p of this.ports) p.dev.close();
  }
}

/** Frames arriving at a host's interface, seen from the host's side (a listening packet socket). */
class Capture {
  readonly frames: Uint8Array[] = [];
  private readonly dev: EthernetDevice;
  constructor(name: string, netns: string) {
    this.dev = new EthernetDevice({ name, netns, configure: false });
    const buf = new ArrayBuffer(64 * 2048);
    const lengths = new Int32Array(64);
    this.dev.startReading(buf, 0, 2048, 64, lengths, (n) => {
      for (let i = 0; i < n; i++) this.frames.push(new Uint8Array(buf, i * 2048, lengths[i]!).slice());
    });
  }
  close(): void {
    this.dev.close();
  }
}

let lab: Lab;
let a: string;
let b: string;
let r: string;
let router: MiniRouter;
let portA: MiniPort;
let portB: MiniPort;
let capA: Capture;
let devA: string;
let hostA: string;

before(async () => {
  lab = await Lab.create('ether');
  a = await lab.addNamespace('a');
  b = await lab.addNamespace('b');
  r = await lab.addNamespace('r');
  // The router's namespace has IPv6 on by default for new interfaces, so the
  // port device has to turn it off itself; and an address of its own on
  // another interface, which the kernel must not answer ARP for on the ports.
  await inNetns(r, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0', 'net.ipv4.ip_forward=1']);
  await ip('-n', r, 'addr', 'add', '10.0.1.77/32', 'dev', 'lo');
  hostA = lab.dev('ha');
  devA = lab.dev('ra');
  await lab.ethernetHostPort(a, hostA, r, devA, '10.0.1.2/24', '10.0.1.1');
  await lab.ethernetHostPort(b, lab.dev('hb'), r, lab.dev('rb'), '10.0.2.2/24', '10.0.2.1');
  capA = new Capture(hostA, a);
  router = new MiniRouter();
  portA = router.add(new EthernetDevice({ name: devA, netns: r }), '10.0.1.1', 24);
  portB = router.add(new EthernetDevice({ name: lab.dev('rb'), netns: r }), '10.0.2.1', 24);
  router.start();
});

after(async () => {
  router?.close();
  capA?.close();
  await lab?.cleanup();
});

test('the device reports the interface: MAC, ifindex, MTU; the kernel keeps off it', { timeout: 20_000 }, async () => {
  const link = JSON.parse((await ip('-n', r, '-j', '-d', 'link', 'show', 'dev', devA)).stdout)[0];
  assert.equal(portA.dev.macText, link.address);
  assert.equal(portA.dev.ifindex, link.ifindex);
  assert.equal(portA.dev.mtu, 1500);
  assert.ok(link.flags.includes('NOARP'), link.flags.join(','));
  assert.ok(link.flags.includes('UP'));
  // OSPF's and RIP's multicast groups reach the socket on a NIC that filters by MAC.
  // (ALLMULTI taken by a socket is counted, not shown among the flags.)
  assert.ok(link.allmulti >= 1, `allmulti ${link.allmulti}`);
  const addrs = (await ip('-n', r, 'addr', 'show', 'dev', devA)).stdout;
  assert.doesNotMatch(addrs, /inet6? /, 'no IPv4 and no IPv6 (link-local) address');
  assert.equal((await inNetns(r, 'cat', [`/proc/sys/net/ipv6/conf/${devA}/disable_ipv6`])).stdout.trim(), '1');
  assert.equal((await inNetns(r, 'cat', [`/proc/sys/net/ipv4/conf/${devA}/forwarding`])).stdout.trim(), '0');
});

test('host a pings the router: ARP answered, host\'s neighbour entry is our MAC and REACHABLE', { timeout: 20_000 }, async () => {
  const ping = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.1.1']);
  assert.match(ping.stdout, /3 received/);
  const neigh = JSON.parse((await ip('-n', a, '-j', 'neigh', 'show', '10.0.1.1', 'dev', hostA)).stdout)[0];
  assert.equal(neigh.lladdr, portA.dev.macText);
  assert.deepEqual(neigh.state, ['REACHABLE']);
  // Our side learned host a (from its request, then confirmed by probing it on use).
  const row = portA.link.neighbours().find((x) => x.address === '10.0.1.2');
  assert.equal(row?.mac, JSON.parse((await ip('-n', a, '-j', 'link', 'show', 'dev', hostA)).stdout)[0].address);
  assert.ok(['reachable', 'stale', 'probe'].includes(row!.state), row!.state);
  assert.ok(portA.link.counters.eventCount(L2Event.ARP_REPLIES_SENT) >= 1);
});

test('forwarding: ping and HTTP over real kernel TCP through two Ethernet ports', { timeout: 30_000 }, async () => {
  const ping = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
  assert.match(ping.stdout, /3 received/);
  assert.match(ping.stdout, /ttl=63 /);
  const big = await inNetns(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '-s', '1472', '-M', 'do', '10.0.2.2']);
  assert.match(big.stdout, /2 received/);
  // The hosts' kernels use checksum offload and TSO on their veths: the
  // device must complete checksums and cut super-frames for TCP to work.
  const csumErrors = async () => (await snmpCounter(a, 'Tcp', 'InCsumErrors')) + (await snmpCounter(b, 'Tcp', 'InCsumErrors'));
  const errorsBefore = await csumErrors();
  const server = await startHttpEcho(lab, b, '10.0.2.2', 8080);
  try {
    const res = await inNetns(a, 'curl', ['-sS', '--max-time', '10', 'http://10.0.2.2:8080/?bytes=2000000']);
    assert.equal(res.stdout.length, 2_000_000);
  } finally {
    server.kill('SIGKILL');
  }
  assert.equal(await csumErrors(), errorsBefore, 'no TCP checksum errors at either host');
  const stats = portB.dev.stats();
  assert.ok(stats.checksumsCompleted > 0, JSON.stringify(stats));
  assert.ok(stats.gsoSegments > stats.gsoFrames && stats.gsoFrames > 0, JSON.stringify(stats));
  assert.equal(stats.badOffload + stats.oversize + stats.truncated, 0, JSON.stringify(stats));
  assert.equal(portB.txErrors + portA.txErrors, 0);
});

// One UDP send of 10,000 bytes with UDP_SEGMENT 999: the kernel hands it to
// the veth as one GSO super-frame; host b must get 10 × 999 + 10 bytes with
// good checksums. Then plain datagrams (odd length, and one that fragments).
const UDP_RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.0.2.2', 9999))
s.settimeout(3)
sizes = []
try:
    while len(sizes) < 13:
        sizes.append(len(s.recv(65535)))
except socket.timeout:
    pass
print(','.join(map(str, sizes)))
`;
const UDP_GSO_SENDER = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_UDP, 103, 999)  # UDP_SEGMENT: 10 x 999 + 10
s.sendto(bytes(range(250)) * 40, ('10.0.2.2', 9999))
p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
p.sendto(bytes(range(251)) * 4 + b'x' * 997, ('10.0.2.2', 9999))  # plain, 2001 bytes: IP fragments
p.sendto(b'y' * 1001, ('10.0.2.2', 9999))  # plain, odd length: partial checksum
`;

test('UDP GSO super-frames are cut into datagrams with good checksums', { timeout: 20_000 }, async () => {
  const before = portA.dev.stats();
  const udpErrors = await snmpCounter(b, 'Udp', 'InCsumErrors');
  const receiver = inNetns(b, 'python3', ['-c', UDP_RECEIVER], { timeoutMs: 10_000 });
  await sleep(300);
  await inNetns(a, 'python3', ['-c', UDP_GSO_SENDER]);
  const got = (await receiver).stdout.trim();
  assert.equal(got, [...Array(10).fill('999'), '10', '2001', '1001'].join(','));
  assert.equal(await snmpCounter(b, 'Udp', 'InCsumErrors'), udpErrors);
  const s = portA.dev.stats();
  assert.equal(s.gsoFrames - before.gsoFrames, 1);
  assert.equal(s.gsoSegments - before.gsoSegments, 11);
  assert.ok(s.checksumsCompleted - before.checksumsCompleted >= 1);
});

test('the kernel answers nothing on the port: no ARP for its own other addresses, no IPv6', { timeout: 20_000 }, async () => {
  const before = portA.link.counters.dropCount(L2Drop.ARP_NOT_FOR_US);
  // 10.0.1.77 is the router namespace's own address (on lo): without NOARP the kernel would answer.
  const r77 = await inNetns(a, 'ping', ['-c', '2', '-i', '0.3', '-W', '1', '10.0.1.77'], { allowFail: true });
  assert.match(r77.stdout, /0 received/);
  assert.ok(portA.link.counters.dropCount(L2Drop.ARP_NOT_FOR_US) > before, 'our link saw the requests and let them be');
  // Everything host a ever received on its interface came from our link: ARP and IPv4 frames from our MAC, as many as we sent.
  await sleep(200);
  const ours = portA.dev.macText;
  for (const f of capA.frames) {
    assert.equal(formatMac(f, 6), ours);
    const type = (f[12]! << 8) | f[13]!;
    assert.ok(type === EtherType.ARP || type === EtherType.IPV4, `ethertype ${type.toString(16)}`);
  }
  assert.equal(capA.frames.length, portA.txFrames);
});

test('block: link down, host sees NO-CARRIER, nothing passes; unblock: gratuitous ARP, ping again', { timeout: 30_000 }, async () => {
  await portA.block();
  const link = await waitFor('NO-CARRIER on host a', async () => {
    const l = JSON.parse((await ip('-n', a, '-j', 'link', 'show', 'dev', hostA)).stdout)[0];
    return l.flags.includes('NO-CARRIER') ? l : undefined;
  }, 5000, 20);
  assert.ok(!link.flags.includes('LOWER_UP'));
  const rxBefore = portA.rxFrames;
  const ping = await inNetns(a, 'ping', ['-c', '2', '-i', '0.3', '-W', '1', '10.0.1.1'], { allowFail: true });
  assert.match(ping.stdout, /0 received/);
  assert.equal(portA.rxFrames, rxBefore, 'nothing received while blocked');
  // Nothing can be sent either: the device refuses (link down) and the link layer drops first.
  const fwd = await inNetns(b, 'ping', ['-c', '2', '-i', '0.3', '-W', '1', '10.0.1.2'], { allowFail: true });
  assert.match(fwd.stdout, /0 received/);
  assert.ok(portA.link.counters.dropCount(L2Drop.TX_LINK_DOWN) > 0);
  // And the device itself refuses a frame while its link is down.
  const capBefore = capA.frames.length;
  const offs = Int32Array.of(0);
  const lens = Int32Array.of(60);
  const frame = new Uint8Array(64);
  frame.fill(0xff, 0, 6);
  frame.set(portA.dev.mac, 6);
  frame[12] = 0x08;
  frame[13] = 0x06;
  assert.equal(portA.dev.writeBatch(frame.buffer, offs, lens, 1), 0);
  assert.equal(lens[0], -constants.errno.ENETDOWN);
  await sleep(100);
  assert.equal(capA.frames.length, capBefore, 'host a received nothing while blocked');
  await portA.unblock();
  await waitFor('carrier back on host a', async () => {
    const l = JSON.parse((await ip('-n', a, '-j', 'link', 'show', 'dev', hostA)).stdout)[0];
    return l.flags.includes('LOWER_UP');
  }, 5000, 20);
  const again = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.1.1']);
  assert.match(again.stdout, /3 received/);
  // The first thing host a got after the unblock: our announcement (a request for our own address).
  const g = capA.frames[capBefore]!;
  const arp = new ArpView().attach(g, ETH, g.length - ETH);
  assert.equal(formatMac(g, 0), 'ff:ff:ff:ff:ff:ff');
  assert.equal(arp.op, ArpOp.REQUEST);
  assert.equal(arp.senderIp, parseAddress('10.0.1.1'));
  assert.equal(arp.targetIp, parseAddress('10.0.1.1'));
  assert.ok(portA.link.counters.eventCount(L2Event.GRATUITOUS_SENT) >= 2);
});

test('hostile frames from the host side are dropped and counted; the port keeps working', { timeout: 30_000 }, async () => {
  // A packet socket of the test in host a's namespace writes raw frames out of host a's NIC.
  const inj = new EthernetDevice({ name: hostA, netns: a, configure: false });
  try {
    const buf = new ArrayBuffer(64 * 128);
    const u8 = new Uint8Array(buf);
    const offs = new Int32Array(64);
    const lens = new Int32Array(64);
    const ourMac = portA.dev.mac;
    const hostMac = inj.mac;
    let n = 0;
    const frame = (len: number, fill: (o: number) => void) => {
      const o = n * 128;
      u8.fill(0, o, o + 128);
      u8.set(ourMac, o);
      u8.set(hostMac, o + 6);
      fill(o);
      offs[n] = o;
      lens[n++] = len;
    };
    const arp = (o: number, tpa: number[], mutate?: (x: number) => void) => {
      u8[o + 12] = 0x08; u8[o + 13] = 0x06;
      u8.set([0, 1, 8, 0, 6, 4, 0, 1], o + 14);
      u8.set(hostMac, o + 22);
      u8.set([10, 0, 1, 2], o + 28);
      u8.set(tpa, o + 38);
      mutate?.(o + 14);
    };
    const before = portA.link.counters.snapshot().drops;
    frame(14, (o) => { u8[o + 12] = 0x08; u8[o + 13] = 0x06; }); // ARP with no body
    frame(30, (o) => arp(o, [10, 0, 1, 1])); // ARP cut short
    frame(60, (o) => arp(o, [10, 0, 1, 1], (x) => { u8[x + 4] = 8; })); // hardware length 8
    frame(60, (o) => arp(o, [10, 0, 1, 1], (x) => { u8[x + 5] = 16; })); // protocol length 16
    frame(60, (o) => arp(o, [10, 0, 1, 1], (x) => { u8[x + 7] = 7; })); // op 7
    frame(60, (o) => arp(o, [10, 0, 1, 99])); // for someone else
    frame(60, (o) => { u8[o + 12] = 0x88; u8[o + 13] = 0xcc; }); // LLDP
    frame(60, (o) => { u8[o] = 0x02; u8[o + 5] = 0x42; u8[o + 12] = 0x08; }); // IPv4 to another MAC
    assert.equal(inj.writeBatch(buf, offs, lens, n), n);
    await sleep(300);
    const d = portA.link.counters.snapshot().drops;
    const grew = (k: string) => (d[k] ?? 0) - (before[k] ?? 0);
    assert.equal(grew('arp-truncated'), 2);
    assert.equal(grew('arp-bad-address-lengths'), 2);
    assert.equal(grew('arp-bad-operation'), 1);
    assert.equal(grew('arp-not-for-us'), 1);
    assert.equal(grew('unknown-ethertype'), 1);
    assert.equal(grew('not-our-mac'), 1);
  } finally {
    inj.close();
  }
  const ping = await inNetns(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.1.1']);
  assert.match(ping.stdout, /2 received/);
});
