export interface RefreshingCacheOptions<V> {
  /** Reads a key's value from the source (Postgres). */
  load(key: string): Promise<V>;
  /** How long a loaded value is fresh, in ms. */
  ttlOf(value: V): number;
  /** At most this many entries; the oldest loaded is dropped to make room. */
  maxEntries: number;
  /** How long past its TTL a value may still be served while its refreshes fail (default 15 min). */
  staleForMs?: number;
  /** While serving stale, how long before the source is tried again for that key (default 5 s). */
  retryMs?: number;
  now(): number;
  /** Called when a refresh failed and the last value stays in use. */
  onStale?(key: string, error: unknown): void;
}

const STALE_FOR_MS = 15 * 60_000;
const STALE_RETRY_MS = 5_000;

interface Entry<V> {
  value: V;
  /** After this a request refreshes the entry in the background while it is still served. */
  refreshAt: number;
  expiresAt: number;
  /** Until when the value may be served while its refreshes fail. */
  staleUntil: number;
  /** The last refresh failed (the source is down): served until staleUntil, retried every retryMs. */
  failing: boolean;
}

interface Load<V> {
  /** Identifies this load: an invalidation removes it, and it then caches nothing. */
  token: object;
  promise: Promise<V>;
}

/** Share of the TTL after which an entry in use is refreshed ahead of its expiry. */
const REFRESH_AHEAD = 0.8;

/**
 * A read-through cache for the hot path (keys, tenants). Each entry lives its own TTL and is
 * refreshed in the background once 80% of it has passed, so a key in use never waits for the
 * source; an entry that expired unused is loaded again before it is served (never older than its
 * TTL while the source answers). When the source fails (Postgres down), the last value keeps
 * being served for `staleForMs`, the source retried every `retryMs`; without a value to fall back
 * on, the source's error is thrown. One load per key runs at a time. Invalidated entries are
 * never served again, and a load that started before an invalidation is not cached or shared.
 */
export class RefreshingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inflight = new Map<string, Load<V>>();
  private readonly staleForMs: number;
  private readonly retryMs: number;

  constructor(private readonly opts: RefreshingCacheOptions<V>) {
    this.staleForMs = opts.staleForMs ?? STALE_FOR_MS;
    this.retryMs = opts.retryMs ?? STALE_RETRY_MS;
  }

  /** The cached value, or the one the source gives (cached for `ttlOf(value)` ms). */
  get(key: string): Promise<V> | V {
    const hit = this.entries.get(key);
    if (hit) {
      const now = this.opts.now();
      if (hit.expiresAt > now || (hit.failing && hit.staleUntil > now)) {
        if (hit.refreshAt <= now && !this.inflight.has(key)) void this.load(key).catch(() => undefined);
        return hit.value;
      }
    }
    return this.inflight.get(key)?.promise ?? this.load(key);
  }

  delete(key: string): void {
    this.entries.delete(key);
    this.inflight.delete(key);
  }

  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, e] of this.entries) if (matches(e.value)) this.entries.delete(key);
    // A load in flight may be for a matching key not cached yet: none of them may be kept.
    this.inflight.clear();
  }

  clear(): void {
    this.entries.clear();
    this.inflight.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private load(key: string): Promise<V> {
    const token = {};
    const promise = this.run(key, this.entries.get(key), token).finally(() => {
      if (this.inflight.get(key)?.token === token) this.inflight.delete(key);
    });
    this.inflight.set(key, { token, promise });
    return promise;
  }

  private async run(key: string, previous: Entry<V> | undefined, token: object): Promise<V> {
    let value: V;
    try {
      value = await this.opts.load(key);
    } catch (e) {
      const now = this.opts.now();
      // The last value stays in use (unless invalidated meanwhile) and the source is left alone for retryMs.
      if (previous && this.entries.get(key) === previous && previous.staleUntil > now) {
        previous.failing = true;
        previous.refreshAt = now + this.retryMs;
        this.opts.onStale?.(key, e);
        return previous.value;
      }
      throw e;
    }
    // Invalidated while loading: the value may be the old row; answer this caller, keep nothing.
    if (this.inflight.get(key)?.token !== token) return value;
    const now = this.opts.now();
    const ttl = this.opts.ttlOf(value);
    this.entries.delete(key);
    if (this.entries.size >= this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, refreshAt: now + ttl * REFRESH_AHEAD, expiresAt: now + ttl, staleUntil: now + ttl + this.staleForMs, failing: false });
    return value;
  }
}
