// Next hops shared by FIB entries: the LPM table stores a next-hop id, and
// the packet path reads the egress port from a typed array by that id.
// Entries are reference-counted so ids of withdrawn routes are reused.
export class NextHopTable {
  port = new Int32Array(64);
  gateway = new Uint32Array(64);
  private refs = new Int32Array(64);
  private readonly ids = new Map<string, number>();
  private readonly free: number[] = [];
  private next = 1; // id 0 means "no route" in the LPM table

  acquire(port: number, gateway: number): number {
    const key = `${port}/${gateway >>> 0}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.free.pop() ?? this.next++;
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
    this.port[id] = -1;
    this.free.push(id);
  }

  private grow(): void {
    const n = this.port.length * 2;
    const port = new Int32Array(n); port.set(this.port); this.port = port;
    const gw = new Uint32Array(n); gw.set(this.gateway); this.gateway = gw;
    const refs = new Int32Array(n); refs.set(this.refs); this.refs = refs;
  }
}
