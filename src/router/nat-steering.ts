// With 2 or more forwarding workers: the forwarder's steering step
// (dataplane/forwarder.ts PacketSteering). Each NAT flow is owned by one
// worker (VirtualServiceNat.ownerOf); a packet of a flow another worker
// owns is copied — bytes, ingress port, offload word — into that worker's
// list, which the worker sends at the end of the batch. In flight per
// sender: at most PEER_HANDOFF_MAX packets and PEER_HANDOFF_MAX_BYTES
// (shared counts: the sender adds, the owner subtracts once it forwarded
// them); beyond that the packet is dropped, counted handoff-full. A packet
// that stays costs the owner hash: nothing is allocated for it.
import { HANDED_OFF, type PacketSteering } from '../dataplane/forwarder.js';
import type { PacketPath } from '../dataplane/packet-path.js';
import { Drop } from '../packet/drops.js';
import type { Port } from '../ports/port.js';
import type { Ipv4View } from '../wire/ipv4.js';
import { PEER_HANDOFF_MAX, PEER_HANDOFF_MAX_BYTES, peerBytes, peerPackets, type HandedOff } from './worker-protocol.js';

export class NatSteering implements PacketSteering {
  /** Per worker: the packets taken for it since its list was last sent. */
  private readonly lists: HandedOff[][];
  private readonly counts: Int32Array;

  /**
   * `index`: this worker, of `threads`; `seed`: the owner hash's (the same
   * in every worker); `counts`: every worker's packets and bytes in flight
   * (worker-protocol.ts peerPackets, peerBytes).
   */
  constructor(private readonly path: PacketPath, private readonly index: number, threads: number, private readonly seed: number, counts: SharedArrayBuffer) {
    this.lists = Array.from({ length: threads }, () => []);
    this.counts = new Int32Array(counts);
  }

  steer(ingress: Port, ip: Ipv4View, word: number): number {
    const nat = this.path.nat;
    if (nat === null) return -1;
    const owner = nat.ownerOf(ip, this.lists.length, this.seed);
    if (owner < 0 || owner === this.index) return -1;
    const len = ip.totalLength;
    const counts = this.counts;
    const me = this.index;
    if (Atomics.load(counts, peerPackets(me)) >= PEER_HANDOFF_MAX || Atomics.load(counts, peerBytes(me)) + len > PEER_HANDOFF_MAX_BYTES) return Drop.HANDOFF_FULL;
    Atomics.add(counts, peerPackets(me), 1);
    Atomics.add(counts, peerBytes(me), len);
    this.lists[owner]!.push({ port: ingress.index, word, bytes: ip.buf.slice(ip.off, ip.off + len) });
    nat.handedOff++;
    return HANDED_OFF;
  }

  /** The packets taken for worker `w` since the last call (empty: none), its list started afresh. */
  take(w: number): HandedOff[] {
    const list = this.lists[w]!;
    if (list.length > 0) this.lists[w] = [];
    return list;
  }

  /** The owner forwarded `packets` packets of `bytes` bytes that worker `from` handed it: they are no longer in flight. */
  forwarded(from: number, packets: number, bytes: number): void {
    Atomics.sub(this.counts, peerPackets(from), packets);
    Atomics.sub(this.counts, peerBytes(from), bytes);
  }
}
