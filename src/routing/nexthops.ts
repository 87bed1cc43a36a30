// Next hops shared by FIB entries: the LPM table stores a next-hop id, and
// the packet path reads the egress port from a typed array by that id.
// Entries are reference-counted so ids of withdrawn routes are reused.
//
// Shared (forwarding workers): the arrays live in SharedArrayBuffers of a
// fixed capacity, written before the LPM entry that names the id (whose
// store publishes them), and a released id cools down before reuse: a
// worker that looked the id up just before the withdrawal reads the old
// next hop, never another route's.

/** Next hops a shared table holds (distinct port/gateway pairs). */
export const SHARED_NEXTHOPS = 1 << 16;
/** How long a released id of a shared table waits before it is reused (a worker's lookup is microseconds). */
const COOL_DOWN_MS = 1000;

/** What a worker needs to read a shared table. */
export interface NextHopHandles {
  port: SharedArrayBuffer;
  gateway: SharedArrayBuffer;
}

export class NextHopTable {
  port: Int32Array;
  gateway: Uint32Array;
  private refs: Int32Array;
  private readonly ids = new Map<string, number>();
  private readonly free: number[] = [];
  /** Shared: when each id of `free` was released (FIFO). */
  private readonly freeAt: number[] = [];
  private next = 1; // id 0 means "no route" in the LPM table

  constructor(readonly shared = false, private readonly now: () => number = Date.now) {
    const n = shared ? SHARED_NEXTHOPS : 64;
    this.port = new Int32Array(shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
    this.gateway = new Uint32Array(shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
    this.refs = new Int32Array(n);
  }

  handles(): NextHopHandles {
    if (!this.shared) throw new Error('NextHopTable.handles: table is not shared');
    return { port: this.port.buffer as SharedArrayBuffer, gateway: this.gateway.buffer as SharedArrayBuffer };
  }

  acquire(port: number, gateway: number): number {
    const key = `${port}/${gateway >>> 0}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.freeId();
      if (id >= this.port.length) this.grow();
      this.port[id] = port;
      this.gateway[id] = gateway;
      this.ids.set(key, id);
    }
    this.refs[id]!++;
    return id;
  }

  release(id: number): void {
    if (--this.refs[id]! > 0) return;
    this.ids.delete(`${this.port[id]}/${this.gateway[id]! >>> 0}`);
    this.free.push(id);
    if (this.shared) {
      this.freeAt.push(this.now());
      return;
    }
    this.port[id] = -1;
  }

  private freeId(): number {
    if (!this.shared) return this.free.pop() ?? this.next++;
    if (this.free.length > 0 && this.now() - this.freeAt[0]! >= COOL_DOWN_MS) {
      this.freeAt.shift();
      return this.free.shift()!;
    }
    if (this.next < SHARED_NEXTHOPS) return this.next++;
    // Out of fresh ids: a cooling one is still better than none.
    if (this.free.length > 0) {
      this.freeAt.shift();
      return this.free.shift()!;
    }
    throw new RangeError(`next-hop table full (${SHARED_NEXTHOPS} distinct port/gateway pairs)`);
  }

  private grow(): void {
    const n = this.port.length * 2;
    const port = new Int32Array(n); port.set(this.port); this.port = port;
    const gw = new Uint32Array(n); gw.set(this.gateway); this.gateway = gw;
    const refs = new Int32Array(n); refs.set(this.refs); this.refs = refs;
  }
}
