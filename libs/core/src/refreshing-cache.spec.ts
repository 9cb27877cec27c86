import { RefreshingCache } from './refreshing-cache';

function setup(maxEntries = 100) {
  let now = 1_000_000;
  const stale: string[] = [];
  const cache = new RefreshingCache<string>({ maxEntries, staleForMs: 60_000, retryMs: 5_000, now: () => now }, (key) => stale.push(key));
  let loads = 0;
  let failing = false;
  let next = 'v1';
  const load = async () => {
    loads++;
    if (failing) throw new Error('database unreachable');
    return next;
  };
  return {
    cache,
    get: (key = 'k') => cache.get(key, load, () => 10_000),
    advance: (ms: number) => (now += ms),
    fail: (on: boolean) => (failing = on),
    set: (v: string) => (next = v),
    loads: () => loads,
    stale,
  };
}

describe('RefreshingCache', () => {
  it('loads once per key while fresh; after the TTL serves the old value while one refresh runs', async () => {
    const c = setup();
    expect(await Promise.all([c.get(), c.get(), c.get()])).toEqual(['v1', 'v1', 'v1']);
    expect(c.loads()).toBe(1);
    c.set('v2');
    c.advance(9_999);
    expect(await c.get()).toBe('v1');
    c.advance(2);
    expect([c.get(), c.get()]).toEqual(['v1', 'v1']);
    expect(c.loads()).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(await c.get()).toBe('v2');
    expect(c.loads()).toBe(2);
  });

  it('keeps serving the expired value while the source fails, retrying every retryMs, for staleForMs only', async () => {
    const c = setup();
    await c.get();
    c.fail(true);
    c.advance(10_001);
    expect(await c.get()).toBe('v1');
    await new Promise((r) => setImmediate(r));
    expect(c.stale).toEqual(['k']);
    expect(await c.get()).toBe('v1');
    expect(c.loads()).toBe(2); // no new try within retryMs
    c.advance(5_001);
    expect(await c.get()).toBe('v1');
    expect(c.loads()).toBe(3);
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

  it('never brings an invalidated value back: not as stale, not from a load that began before', async () => {
    const c = setup();
    await c.get();
    c.cache.delete('k');
    c.fail(true);
    await expect(c.get()).rejects.toThrow();
    c.fail(false);

    let release: (v: string) => void = () => undefined;
    const slow = c.cache.get('s', () => new Promise<string>((r) => (release = r)), () => 10_000);
    c.cache.clear();
    release('old row');
    expect(await slow).toBe('old row');
    expect(c.cache.size).toBe(0);
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
