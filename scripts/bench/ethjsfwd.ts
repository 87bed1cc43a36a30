// A minimal JavaScript forwarder for bench-ethernet: what the router's packet
// path costs on top of the devices, without routing. Two ports, every IPv4
// packet from one goes out of the other, one native read per batch and one
// native write per batch, nothing allocated per packet.
//   ethjsfwd packet IN OUT    Ethernet ports (EthernetDevice + EthernetLink,
//                             which answers ARP and resolves the next hop)
//   ethjsfwd tun NS:DEV NS:DEV   TUN ports (TunDevice)
// Runs inside the router namespace (packet) / anywhere (tun).
import { EthernetDevice } from '../../src/ports/ethernet/ethernet-device.js';
import { EthernetLink, Rx } from '../../src/ports/ethernet/ethernet-link.js';
import { TunDevice } from '../../src/ports/tun-device.js';
import { parseAddress } from '../../src/net/addr.js';
import type { PacketDevice } from '../../src/ports/device.js';

const BATCH = 64;
const SLOT = 2048;
const HEADROOM = 64;
const ETH = 14;

const [mode, inArg, outArg] = process.argv.slice(2);
const arena = new ArrayBuffer(4 << 20);
const bytes = new Uint8Array(arena);
let reserved = 0;
const reserve = (n: number) => {
  const at = (reserved + 63) & ~63;
  reserved = at + n;
  return at;
};

class TxQueue {
  readonly offsets = new Int32Array(256);
  readonly lengths = new Int32Array(256);
  count = 0;
  constructor(readonly device: PacketDevice, readonly after?: () => void) {}
  push(off: number, len: number): void {
    if (this.count === 256) this.flush();
    this.offsets[this.count] = off;
    this.lengths[this.count++] = len;
  }
  flush(): void {
    if (this.count) this.device.writeBatch(arena, this.offsets, this.lengths, this.count);
    this.count = 0;
    this.after?.();
  }
}

if (mode === 'tun') {
  const [nsA, devA] = inArg!.split(':');
  const [nsB, devB] = outArg!.split(':');
  const a = new TunDevice({ name: devA!, netns: nsA });
  const b = new TunDevice({ name: devB!, netns: nsB });
  const base = reserve(BATCH * SLOT);
  const lengths = new Int32Array(BATCH);
  const tx = new TxQueue(b);
  a.startReading(arena, base + HEADROOM, SLOT, BATCH - 1, lengths, (n) => {
    for (let i = 0; i < n; i++) tx.push(base + HEADROOM + i * SLOT, lengths[i]!);
    tx.flush();
  });
  console.log('ready');
} else if (mode === 'packet') {
  const devA = new EthernetDevice({ name: inArg! });
  const devB = new EthernetDevice({ name: outArg! });
  // Return traffic (ARP replies, ICMP) is handled but not counted by the bench.
  const ports = [
    { dev: devA, address: '10.1.0.1', nextHop: parseAddress('10.1.0.2') },
    { dev: devB, address: '10.2.0.1', nextHop: parseAddress('10.2.0.2') },
  ].map((p) => {
    const tx = new TxQueue(p.dev);
    const link = new EthernetLink({
      bytes, region: reserve(EthernetLink.regionBytes({ mtu: 1500 })), mac: p.dev.mac,
      address: parseAddress(p.address), prefixLen: 24, mtu: 1500,
      send: (off, len) => tx.push(off, len),
    });
    return { ...p, tx, link, base: reserve(BATCH * SLOT), lengths: new Int32Array(BATCH) };
  });
  for (const p of ports) {
    (p.tx as { after?: () => void }).after = () => p.link.txFlushed();
    p.link.linkUp();
  }
  for (const [me, other] of [[ports[0]!, ports[1]!], [ports[1]!, ports[0]!]] as const) {
    // The frame lands 14 bytes before the slot's headroom ends: the IPv4 packet sits at slot + HEADROOM.
    const first = me.base + HEADROOM - ETH;
    me.dev.startReading(arena, first, SLOT, BATCH - 1, me.lengths, (n) => {
      for (let i = 0; i < n; i++) {
        const off = first + i * SLOT;
        const len = me.lengths[i]!;
        if (me.link.receive(off, len) !== Rx.IPV4) continue;
        const f = other.link.transmit(off + ETH, len - ETH, other.nextHop);
        if (f > 0) other.tx.push(off, f);
      }
      other.tx.flush();
      me.tx.flush();
    });
  }
  setInterval(() => {
    for (const p of ports) {
      p.link.tick();
      p.tx.flush();
    }
  }, 100);
  console.log('ready');
} else {
  console.error('usage: ethjsfwd packet IN OUT | ethjsfwd tun NS:DEV NS:DEV');
  process.exit(2);
}
