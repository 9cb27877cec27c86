export interface RefreshingCacheOptions {
  /** At most this many entries; the oldest loaded is dropped to make room. */
  maxEntries: number;
  /** How long past its TTL a value may still be served while its refresh runs or fails. */
  staleForMs: number;
  /** While serving stale, how long before the source is tried again for that key. */
  retryMs: number;
  now(): number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
  /** Until when the value may be served if a refresh fails. */
  staleUntil: number;
}

/**
 * A read-through cache for the hot path (keys, tenants): each entry lives its own TTL, and one
 * load per key runs at a time. An expired entry is refreshed in the background while its value
 * keeps being served (no request waits for the source once a key was seen), and while the source
 * fails (Postgres down) for up to `staleForMs`, retried every `retryMs`. Without a value to fall
 * back on, a request waits for the load and gets its error. Invalidated entries are never served,
 * and a load that started before an invalidation is not cached (it may have read the old row).
 */
export class RefreshingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inflight = new Map<string, Promise<V>>();
  private generation = 0;

  constructor(
    private readonly opts: RefreshingCacheOptions,
    /** Called when a background refresh failed and the expired value stays in use. */
    private readonly onStale?: (key: string, error: unknown) => void,
  ) {}

  /** The cached value, or the one `load` gives (cached for `ttlOf(value)` ms). */
  get(key: string, load: () => Promise<V>, ttlOf: (value: V) => number): Promise<V> | V {
    const hit = this.entries.get(key);
    if (hit) {
      const now = this.opts.now();
      if (hit.expiresAt > now) return hit.value;
      if (hit.staleUntil > now) {
        if (!this.inflight.has(key)) void this.load(key, load, ttlOf, hit).catch(() => undefined);
        return hit.value;
      }
    }
    return this.inflight.get(key) ?? this.load(key, load, ttlOf, undefined);
  }

  delete(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  deleteWhere(matches: (value: V) => boolean): void {
    this.generation++;
    for (const [key, e] of this.entries) if (matches(e.value)) this.entries.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private load(key: string, load: () => Promise<V>, ttlOf: (value: V) => number, stale: Entry<V> | undefined): Promise<V> {
    const p = this.run(key, load, ttlOf, stale).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async run(key: string, load: () => Promise<V>, ttlOf: (value: V) => number, stale: Entry<V> | undefined): Promise<V> {
    const generation = this.generation;
    let value: V;
    try {
      value = await load();
    } catch (e) {
      // The expired value stays in use (until staleUntil) and the source is left alone for retryMs.
      if (stale && this.entries.get(key) === stale) {
        stale.expiresAt = this.opts.now() + this.opts.retryMs;
        this.onStale?.(key, e);
      }
      throw e;
    }
    if (generation === this.generation) {
      const now = this.opts.now();
      const ttl = ttlOf(value);
      this.entries.delete(key);
      if (this.entries.size >= this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { value, expiresAt: now + ttl, staleUntil: now + ttl + this.opts.staleForMs });
    }
    return value;
  }
}
