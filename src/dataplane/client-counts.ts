// How many flows each client address holds, for per-client limits: an
// open-addressing hash on typed arrays (linear probing, backward-shift
// deletion, load ≤ 1/2), so counting a flow in or out allocates nothing.
export class ClientCounts {
  private readonly keys: Int32Array;
  private readonly counts: Int32Array;
  private readonly mask: number;

  /** Room for `clients` distinct addresses at once. */
  constructor(clients: number, private readonly seed = (Math.random() * 0x100000000) | 0) {
    let slots = 2;
    while (slots < 2 * clients) slots *= 2;
    this.keys = new Int32Array(slots);
    this.counts = new Int32Array(slots);
    this.mask = slots - 1;
  }

  get(client: number): number {
    const i = this.find(client | 0);
    return i < 0 ? 0 : this.counts[i]!;
  }

  increment(client: number): void {
    client |= 0;
    let i = this.home(client);
    while (this.counts[i] !== 0 && this.keys[i] !== client) i = (i + 1) & this.mask;
    this.keys[i] = client;
    this.counts[i]! += 1;
  }

  decrement(client: number): void {
    const i = this.find(client | 0);
    if (i < 0) return;
    if (--this.counts[i]! > 0) return;
    // Free the slot, shifting later members of its cluster back into the hole.
    const mask = this.mask;
    let hole = i;
    for (let j = (i + 1) & mask; this.counts[j] !== 0; j = (j + 1) & mask) {
      const home = this.home(this.keys[j]!);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.keys[hole] = this.keys[j]!;
        this.counts[hole] = this.counts[j]!;
        this.counts[j] = 0;
        hole = j;
      }
    }
    this.counts[hole] = 0;
  }

  private find(client: number): number {
    for (let i = this.home(client); this.counts[i] !== 0; i = (i + 1) & this.mask) if (this.keys[i] === client) return i;
    return -1;
  }

  private home(client: number): number {
    let h = Math.imul(client ^ this.seed, 0x9e3779b1);
    h ^= h >>> 16;
    return h & this.mask;
  }
}
