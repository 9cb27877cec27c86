import { PlatformCapLimiter } from './platform-caps';
import { RedisTestEnv, uid } from '../test/redis-test-env';

describe('PlatformCapLimiter (real Redis)', () => {
  const env = new RedisTestEnv();
  const caps = new PlatformCapLimiter(env.redis, env.keys, 5_000);
  const T = 1_800_000_000_000; // on a minute boundary
  afterAll(() => env.close());

  it('lets rpm requests start per minute per tenant and provider, then says when the window ends', async () => {
    const tenant = uid('t');
    for (let i = 0; i < 3; i++) expect((await caps.acquire(tenant, 'openai', { rpm: 3 }, `r${i}`, T + 10_000)).ok).toBe(true);
    expect(await caps.acquire(tenant, 'openai', { rpm: 3 }, 'r3', T + 20_000)).toEqual({ ok: false, limit: 'rpm', retryAfterMs: 40_000 });
    // Another provider and another tenant have their own counts; the next minute starts afresh.
    expect((await caps.acquire(tenant, 'anthropic', { rpm: 3 }, 'r4', T + 20_000)).ok).toBe(true);
    expect((await caps.acquire(uid('t'), 'openai', { rpm: 3 }, 'r5', T + 20_000)).ok).toBe(true);
    expect((await caps.acquire(tenant, 'openai', { rpm: 3 }, 'r6', T + 60_000)).ok).toBe(true);
  });

  it('caps requests in flight; a release or an expired lease frees a slot', async () => {
    const tenant = uid('t');
    const at = (lease: string, now: number) => caps.acquire(tenant, 'openai', { concurrency: 2 }, lease, now);
    expect((await at('a', T)).ok).toBe(true);
    expect((await at('b', T)).ok).toBe(true);
    expect(await at('c', T + 10)).toEqual({ ok: false, limit: 'concurrency', retryAfterMs: 1000 });
    await caps.release(tenant, 'openai', 'a');
    expect((await at('c', T + 20)).ok).toBe(true);
    expect((await at('d', T + 30)).ok).toBe(false);
    // A gateway that died holding 'b' and 'c': their leases (5 s here) run out.
    expect((await at('d', T + 5_021)).ok).toBe(true);
  });

  it('does not count a request refused for concurrency against the rpm window', async () => {
    const tenant = uid('t');
    const limits = { rpm: 2, concurrency: 1 };
    expect((await caps.acquire(tenant, 'openai', limits, 'a', T)).ok).toBe(true);
    expect((await caps.acquire(tenant, 'openai', limits, 'b', T)).ok).toBe(false);
    await caps.release(tenant, 'openai', 'a');
    expect((await caps.acquire(tenant, 'openai', limits, 'b', T)).ok).toBe(true);
    await caps.release(tenant, 'openai', 'b');
    expect(await caps.acquire(tenant, 'openai', limits, 'c', T)).toMatchObject({ ok: false, limit: 'rpm' });
  });

  it('renews a lease while its request runs, and never brings back a released one', async () => {
    const tenant = uid('t');
    const at = (lease: string, now: number) => caps.acquire(tenant, 'openai', { concurrency: 1 }, lease, now);
    expect((await at('long', T)).ok).toBe(true);
    expect(await caps.renew(tenant, 'openai', 'long', T + 4_000)).toBe(true);
    // Without the renewal the lease would have run out at T + 5 s.
    expect(await at('next', T + 8_000)).toMatchObject({ ok: false, limit: 'concurrency' });
    expect((await at('next', T + 9_001)).ok).toBe(true);
    await caps.release(tenant, 'openai', 'next');
    expect(await caps.renew(tenant, 'openai', 'next', T + 9_100)).toBe(false);
    expect((await at('third', T + 9_200)).ok).toBe(true);
  });
});
