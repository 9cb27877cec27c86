import { RefreshingCache } from './refreshing-cache';

function setup(maxEntries = 100) {
  let now = 1_000_000;
  const stale: string[] = [];
  let loads = 0;
  let failing = false;
  let next = 'v1';
  const source = async () => {
    loads++;
    if (failing) throw new Error('database unreachable');
    return next;
  };
  /** What the source answers; a test may swap it for one key's loads. */
  let load: (key: string) => Promise<string> = source;
  const cache = new RefreshingCache<string>({
    load: (key) => load(key),
    ttlOf: () => 10_000,
    maxEntries,
    staleForMs: 60_000,
    retryMs: 5_000,
    now: () => now,
    onStale: (key) => stale.push(key),
  });
  return {
    cache,
    /** The next loads answer with `l` until reset to the default source. */
    loadWith: (l?: () => Promise<string>) => (load = l ?? source),
    get: (key = 'k') => cache.get(key),
    advance: (ms: number) => (now += ms),
    fail: (on: boolean) => (failing = on),
    set: (v: string) => (next = v),
    loads: () => loads,
    stale,
  };
}

describe('RefreshingCache', () => {
  const flush = () => new Promise((r) => setImmediate(r));

  it('loads once per key while fresh, and refreshes an entry in use ahead of its expiry, in the background', async () => {
    const c = setup();
    expect(await Promise.all([c.get(), c.get(), c.get()])).toEqual(['v1', 'v1', 'v1']);
    expect(c.loads()).toBe(1);
    c.set('v2');
    c.advance(7_999);
    expect(c.get()).toBe('v1');
    expect(c.loads()).toBe(1);
    c.advance(2);
    // Past 80% of the TTL: still served at once, refreshed behind it (one load for both requests).
    expect([c.get(), c.get()]).toEqual(['v1', 'v1']);
    expect(c.loads()).toBe(2);
    await flush();
    expect(c.get()).toBe('v2');
  });

  it('never serves an entry older than its TTL while the source answers: an expired one is loaded first', async () => {
    const c = setup();
    await c.get();
    c.set('v2');
    c.advance(10_001);
    expect(await c.get()).toBe('v2');
    expect(c.loads()).toBe(2);
  });

  it('keeps serving the last value while the source fails, retrying every retryMs, for staleForMs only', async () => {
    const c = setup();
    await c.get();
    c.fail(true);
    c.advance(10_001);
    expect(await c.get()).toBe('v1');
    expect(c.stale).toEqual(['k']);
    expect(c.get()).toBe('v1');
    expect(c.loads()).toBe(2); // no new try within retryMs
    c.advance(5_001);
    expect(c.get()).toBe('v1');
    expect(c.loads()).toBe(3);
    await flush();
    c.advance(60_000);
    await expect(c.get()).rejects.toThrow('database unreachable');
    c.fail(false);
    c.set('v2');
    expect(await c.get()).toBe('v2');
  });

  it('throws the source error when there is nothing to fall back on, and caches no failure', async () => {
    const c = setup();
    c.fail(true);
    await expect(c.get()).rejects.toThrow('database unreachable');
    c.fail(false);
    expect(await c.get()).toBe('v1');
  });

  it('never brings an invalidated value back: not as stale, not from a load that began before, not to a later caller', async () => {
    const c = setup();
    await c.get();
    c.cache.delete('k');
    c.fail(true);
    await expect(c.get()).rejects.toThrow();
    c.fail(false);

    let release: (v: string) => void = () => undefined;
    c.loadWith(() => new Promise<string>((r) => (release = r)));
    const before = c.cache.get('s');
    c.cache.delete('s');
    c.loadWith(async () => 'new row');
    const after = c.cache.get('s');
    release('old row');
    expect(await before).toBe('old row');
    expect(await after).toBe('new row');
    c.loadWith(async () => 'unused');
    expect(c.cache.get('s')).toBe('new row');

    c.loadWith(() => new Promise<string>((r) => (release = r)));
    const pending = c.cache.get('t');
    c.cache.deleteWhere(() => false);
    release('old row');
    await pending;
    c.loadWith(async () => 'reloaded');
    expect(await c.cache.get('t')).toBe('reloaded');
  });

  it('holds at most maxEntries, dropping the oldest loaded', async () => {
    const c = setup(2);
    await c.get('a');
    await c.get('b');
    await c.get('c');
    expect(c.cache.size).toBe(2);
    const before = c.loads();
    await c.get('c');
    await c.get('b');
    expect(c.loads()).toBe(before);
    await c.get('a');
    expect(c.loads()).toBe(before + 1);
  });
});
