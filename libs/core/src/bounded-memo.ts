/**
 * Values computed once per key for the hot path (a tenant's key prefix, a parsed URL), in a Map
 * that is emptied whole when it reaches `limit` entries: no per-hit bookkeeping, and the rare
 * refill costs one computation per key.
 */
export class BoundedMemo<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly limit: number) {}

  get(key: string, make: () => V): V {
    let v = this.entries.get(key);
    if (v === undefined) {
      v = make();
      if (this.entries.size >= this.limit) this.entries.clear();
      this.entries.set(key, v);
    }
    return v;
  }
}
