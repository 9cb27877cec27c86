import { InvalidationBus } from '@gw/metering';
import { startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';

/**
 * Two gateway processes sharing Postgres and Redis (two app instances in this worker: same
 * database, same REDIS_PREFIX): a revocation through the admin API of one is refused by the other
 * within a second, even when the pub/sub eviction never arrives; rate limits hold across both.
 */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
let one: TestApp;
let two: TestApp;

beforeAll(async () => {
  one = await startTestApp({}, { billingWorker: false });
  two = await startTestApp({}, { billingWorker: false });
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

const chat = (app: TestApp, key: string) =>
  fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
  });

async function fundedKey(body: Record<string, unknown> = {}) {
  const s = await one.signup();
  expect((await one.grant(s.tenantId, 5)).status).toBe(201);
  const k = await call(one.url, 'POST', '/api/keys', { token: s.token, body: { name: 'shared', ...body } });
  return { ...s, key: k.body.key as string, keyId: k.body.id as string };
}

/** Polls `two` until the key is refused; returns the milliseconds since `since`. */
async function refusedWithin(key: string, since: number, limitMs: number): Promise<number> {
  for (;;) {
    const res = await chat(two, key);
    const elapsed = Date.now() - since;
    if (res.status === 401) return elapsed;
    expect(res.status).toBe(200);
    if (elapsed > limitMs) throw new Error(`still accepted after ${elapsed} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('a key revoked through the admin API of one process is refused by the other within one second', async () => {
  const k = await fundedKey();
  expect((await chat(two, k.key)).status).toBe(200);
  expect((await chat(two, k.key)).status).toBe(200);
  const start = Date.now();
  expect((await call(one.url, 'DELETE', `/api/keys/${k.keyId}`, { token: k.token })).status).toBe(200);
  expect(await refusedWithin(k.key, start, 1000)).toBeLessThan(1000);
});

it('the Redis key status refuses it even when the other process misses the pub/sub eviction', async () => {
  const k = await fundedKey();
  expect((await chat(two, k.key)).status).toBe(200);
  // The eviction is lost: `two` keeps the key cached as active; only Redis knows.
  const bus = one.app.get(InvalidationBus);
  const spy = jest.spyOn(bus, 'publish').mockResolvedValue(undefined);
  try {
    const start = Date.now();
    expect((await call(one.url, 'DELETE', `/api/keys/${k.keyId}`, { token: k.token })).status).toBe(200);
    expect(spy).toHaveBeenCalled();
    expect(await refusedWithin(k.key, start, 1000)).toBeLessThan(1000);
  } finally {
    spy.mockRestore();
  }
});

it('a limit change reaches the other process, and the rate limit holds across both', async () => {
  const k = await fundedKey();
  expect((await chat(two, k.key)).status).toBe(200);
  const patched = await call(one.url, 'PATCH', `/api/keys/${k.keyId}`, { token: k.token, body: { rpm_limit: 4 } });
  expect(patched.body.rpm_limit).toBe(4);
  // `two` cached the key without a limit: wait for the eviction to land (well under a second).
  await new Promise((r) => setTimeout(r, 200));
  const statuses: number[] = [];
  let limited: Response | undefined;
  for (let i = 0; i < 6; i++) {
    const res = await chat(i % 2 === 0 ? one : two, k.key);
    statuses.push(res.status);
    if (res.status === 429) limited ??= res;
    else await res.arrayBuffer();
  }
  // The first request (before the change) counted nothing; four more pass across both, then 429.
  expect(statuses.filter((s) => s === 200).length).toBe(4);
  expect(statuses.slice(4)).toEqual([429, 429]);
  expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(((await limited!.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
});
