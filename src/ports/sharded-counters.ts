// Counters in one Float64Array (exact integers up to 2^53), bumped in place
// on the packet path. With forwarding workers, each worker counts in a shard
// of its own (a Float64Array over shared memory that only it writes): no lock
// or atomic operation on the packet path; reading sums the owner's values and
// every shard (a reader may see a shard mid-update by one packet, never a torn
// number: a Float64 store is one machine word).
export class ShardedCounters {
  readonly values: Float64Array;
  private readonly shards: Float64Array[] = [];

  /** `values`: where to count (a worker's shard of `slots`), default a fresh array. */
  constructor(what: string, slots: number, values?: Float64Array) {
    if (values && values.length !== slots) throw new RangeError(`${what}: ${values.length} slots, expected ${slots}`);
    this.values = values ?? new Float64Array(slots);
  }

  /** A worker's shard, summed into what this reports. */
  addShard(shard: Float64Array): void {
    this.shards.push(shard);
  }

  /** Every slot: this thread's counts plus the workers'. */
  total(): Float64Array {
    if (this.shards.length === 0) return this.values;
    const sum = Float64Array.from(this.values);
    for (const s of this.shards) for (let i = 0; i < sum.length; i++) sum[i]! += s[i]!;
    return sum;
  }
}
