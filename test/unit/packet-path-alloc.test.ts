// The packet path allocates nothing per packet: a real Router on in-memory
// devices forwards millions of random packets — destinations over the whole
// address space (addresses ≥ 2^31 included), through thousands of routes,
// some dropped (martians, multicast, TTL 1) — and V8's sampling heap profiler
// counts what the loop allocated: well under one boxed number per packet.
// (A uint32 address ≥ 2^31 that crosses a call is boxed: this test found that
// in the path, for every source, destination and gateway from 128.0.0.0 up.)
import assert from 'node:assert/strict';
import { Session } from 'node:inspector/promises';
import { test } from 'node:test';
import { parseRouterConfig, type RouterConfig } from '../../src/config/router-config.js';
import { silentLogger } from '../../src/daemon/log.js';
import { formatPrefix } from '../../src/net/addr.js';
import { CountingDevice } from '../../src/ports/counting-device.js';
import { NatSteering } from '../../src/router/nat-steering.js';
import { Router } from '../../src/router/router.js';
import { seededRandom } from '../../src/testbed/random.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { buildUdpDatagram } from '../../src/wire/udp.js';

const BATCH = 64;
const POOL = 8192;
const PACKET_LEN = 20 + 8 + 18; // IPv4 + UDP + payload: a 64-byte frame's worth
const BATCHES = 40_000; // 2.56 M packets

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Bytes allocated per function (leaf frame) in a sampling heap profile. */
function allocationSites(node: ProfileNode, out: { where: string; bytes: number }[] = []): { where: string; bytes: number }[] {
  const f = node.callFrame;
  if (node.selfSize > 0) out.push({ where: `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`, bytes: node.selfSize });
  for (const c of node.children) allocationSites(c, out);
  return out;
}

/** A router on in-memory devices that count what is written to them, started. */
function startInMemory(config: RouterConfig): { router: Router; devices: Map<string, CountingDevice> } {
  const devices = new Map<string, CountingDevice>();
  const router = new Router(config, silentLogger(), (p) => {
    const d = new CountingDevice(p.name);
    devices.set(p.name, d);
    return d;
  });
  router.start();
  return { router, devices };
}

/** `n` batches of BATCH packets from `pool` (PACKET_LEN each, in turn) copied into port a's slots and forwarded. */
function poolForwarder(router: Router, pool: Uint8Array): (n: number) => void {
  const a = router.portByName('a');
  const bytes = router.arena.bytes;
  const count = pool.length / PACKET_LEN;
  let next = 0;
  return (n) => {
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < BATCH; i++) {
        // A byte loop: pool.subarray() would itself allocate a view per packet.
        const from = next * PACKET_LEN;
        const to = a.slotPacket(i);
        for (let k = 0; k < PACKET_LEN; k++) bytes[to + k] = pool[from + k]!;
        a.rxLengths[i] = PACKET_LEN;
        next = next + 1 === count ? 0 : next + 1;
      }
      router.path.forwarder.receive(a, BATCH);
    }
  };
}

/**
 * V8's sampling heap profile of `run`: it sees every allocation, also what a
 * collection frees at once, so its samples add up to what `run` allocated.
 */
async function sampleAllocations(run: () => void): Promise<ProfileNode> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  run();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  return profile.head as ProfileNode;
}

/** Fewer than 4 bytes allocated per packet over `packets`, or the three largest allocation sites in the message. */
function assertUnder4BytesPerPacket(profile: ProfileNode, packets: number): void {
  const sites = allocationSites(profile);
  const total = sites.reduce((n, s) => n + s.bytes, 0);
  const perPacket = total / packets;
  const top = sites.sort((x, y) => y.bytes - x.bytes).slice(0, 3).map((s) => `${s.bytes} B at ${s.where}`).join('; ');
  assert.ok(perPacket < 4, `${total} bytes allocated over ${packets} packets (${perPacket.toFixed(2)} per packet): ${top}`);
}

test('forwarding 2.56 M random packets over the whole address space allocates nothing on the heap', async () => {
  const random = seededRandom(1812);
  // Routes all over the address space, half of them above 2^31, to ports b and c (c's gateway ≥ 2^31 too).
  const routes: object[] = [{ prefix: '0.0.0.0/0', port: 'c', via: '192.168.3.2' }];
  for (let i = 0; i < 5000; i++) {
    const len = 8 + Math.floor(random() * 17);
    const addr = ((random() * 2 ** 32) >>> 0) & ((0xffffffff << (32 - len)) >>> 0);
    if (addr >>> 24 === 10 || addr >>> 24 === 172 || addr >>> 24 === 192 || addr >>> 28 >= 14 || addr >>> 24 === 127 || addr >>> 24 === 0) continue;
    routes.push(i % 2 ? { prefix: formatPrefix(addr >>> 0, len), port: 'b', via: '10.0.2.2' } : { prefix: formatPrefix(addr >>> 0, len), port: 'c', via: '192.168.3.2' });
  }
  const config = parseRouterConfig({
    router: 'r',
    ports: [
      { name: 'a', device: 'a0', address: '172.16.1.1/24' },
      { name: 'b', device: 'b0', address: '10.0.2.1/24' },
      { name: 'c', device: 'c0', address: '192.168.3.1/30' },
    ],
    routes,
  });
  const { router, devices } = startInMemory(config);
  try {
    // A pool of packets from host a's subnet (172.16.1.0/24, ≥ 2^31): random destinations (every 16th one ≥ 224.0.0.0 or
    // in 127/8 — dropped), random ports, TTL 64 (every 32nd TTL 1: an ICMP error, rate-limited).
    const pool = new Uint8Array(POOL * PACKET_LEN);
    let high = 0;
    for (let i = 0; i < POOL; i++) {
      let dst = (random() * 2 ** 32) >>> 0;
      if (i % 16 === 0) dst = i % 32 === 0 ? (0xe0000000 | (dst & 0x0fffffff)) >>> 0 : (0x7f000000 | (dst & 0xffffff)) >>> 0;
      if (dst >= 2 ** 31) high++;
      const src = (0xac100100 | (2 + (i % 250))) >>> 0; // 172.16.1.x: sources ≥ 2^31 too
      buildUdpDatagram(pool, i * PACKET_LEN, src, dst, 1024 + (i % 60000), 1 + (i % 65000), PACKET_LEN - 28, i % 32 === 7 ? 1 : 64);
    }
    assert.ok(high > POOL / 3, 'many destinations ≥ 2^31');

    const forwardBatches = poolForwarder(router, pool);

    forwardBatches(4000); // warm up: compiled code, flow and rate-limit state
    const written = () => [...devices.values()].reduce((n, d) => n + d.packets, 0);
    const writtenBefore = written();
    const profile = await sampleAllocations(() => forwardBatches(BATCHES));
    const forwarded = written() - writtenBefore;

    assert.ok(forwarded > BATCHES * BATCH * 0.7, `most packets forwarded (${forwarded} of ${BATCHES * BATCH})`);
    // The drops the pool was built to cause happened, and were counted.
    const drops = router.portByName('a').counters.snapshot().drops;
    for (const reason of ['martian-destination', 'multicast-not-routed', 'ttl-expired']) assert.ok((drops[reason] ?? 0) > 0, `${reason} counted`);
    // Allowed: the batch clock's one read per batch (~16 bytes per 64 packets). One
    // boxed number per packet would be 16 bytes each.
    assertUnder4BytesPerPacket(profile, BATCHES * BATCH);
  } finally {
    router.stop();
  }
});

test('with forwarding workers\' NAT steering, the packets a worker owns (and those of no NAT flow) allocate nothing either; one another owns is handed off', async () => {
  const config = parseRouterConfig({
    router: 'r',
    ports: [
      { name: 'a', device: 'a0', address: '172.16.1.1/24' },
      { name: 'b', device: 'b0', address: '10.0.2.1/24' },
    ],
    routes: [{ prefix: '0.0.0.0/0', port: 'b', via: '10.0.2.2' }],
    virtualServices: [{ name: 'web', address: '1.1.1.1', backends: [{ name: 'b1', address: '10.0.2.9' }] }],
  });
  const { router, devices } = startInMemory(config);
  try {
    const SEED = 4242;
    const steering = new NatSteering(router.path, 0, 2, SEED, new SharedArrayBuffer(16));
    router.path.forwarder.steering = steering;
    const nat = router.path.nat!;
    const random = seededRandom(99);
    // UDP from host a's subnet: to the VIP (only flows worker 0 owns) and, every 4th, through to anywhere (no NAT flow's).
    const pool = new Uint8Array(POOL * PACKET_LEN);
    const scratch = new Ipv4View();
    let i = 0;
    let other: Uint8Array | null = null;
    while (i < POOL) {
      const src = (0xac100100 | (2 + (i % 250))) >>> 0;
      const dst = i % 4 === 3 ? (0x08000000 | ((random() * 0xffffff) >>> 0)) >>> 0 : 0x01010101;
      const at = i * PACKET_LEN;
      buildUdpDatagram(pool, at, src, dst, 1024 + ((random() * 60000) >>> 0), 80, PACKET_LEN - 28, 64);
      const owner = nat.ownerOf(scratch.attach(pool, at, PACKET_LEN), 2, SEED);
      if (owner === 1) {
        other ??= pool.slice(at, at + PACKET_LEN);
        continue;
      }
      i++;
    }
    assert.ok(other, 'some flows worker 1 owns');

    const a = router.portByName('a');
    const bytes = router.arena.bytes;
    const forwardBatches = poolForwarder(router, pool);
    forwardBatches(2000);
    const batches = 10_000;
    const profile = await sampleAllocations(() => forwardBatches(batches));
    assert.ok(nat.flows.created > POOL / 2, `NAT flows made here (${nat.flows.created})`);
    assert.ok(nat.packetsIn > batches * BATCH / 2, 'translated here');
    assert.equal(nat.handedOff, 0);
    assertUnder4BytesPerPacket(profile, batches * BATCH);

    // A packet of a flow worker 1 owns: copied for it (bytes as read), not forwarded here.
    const txBefore = devices.get('b')!.packets;
    bytes.set(other, a.slotPacket(0));
    a.rxLengths[0] = PACKET_LEN;
    router.path.forwarder.receive(a, 1);
    assert.equal(nat.handedOff, 1);
    assert.equal(devices.get('b')!.packets, txBefore);
    const taken = steering.take(1);
    assert.equal(taken.length, 1);
    assert.deepEqual([taken[0]!.port, taken[0]!.word, [...taken[0]!.bytes]], [a.index, 0, [...other]]);
    assert.equal(steering.take(1).length, 0);
  } finally {
    router.stop();
  }
});
