import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { CreditStore, RedisKeys } from '@gw/metering';
import { Charges } from './charges';
import { Settlement } from './settlement';

/**
 * A served request is charged even when Redis refuses writes for a while: a failover answers
 * READONLY for seconds, a full Redis under noeviction answers OOM. Settle retries (it is
 * idempotent) for as long as a hold lives.
 */

const prefix = `${process.env.REDIS_PREFIX ?? 'tgw:'}st${randomBytes(4).toString('hex')}:`;
const keys = new RedisKeys(prefix);
const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
const store = new CreditStore(redis, keys);
const RATES = new Charges(0n, 500n);

afterAll(async () => {
  const found = await redis.keys(`${prefix}*`);
  if (found.length) await redis.del(...found);
  redis.disconnect();
});

/** The same connection, but every script call fails with READONLY until `until`. */
function readOnlyUntil(until: number): Redis {
  return new Proxy(redis, {
    get(target, prop) {
      if ((prop === 'evalsha' || prop === 'eval') && Date.now() < until) {
        return () => Promise.reject(new Error("READONLY You can't write against a read only replica."));
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

it('charges a served request whose settle meets 1.5 s of READONLY replies, once', async () => {
  const tenantId = `ten${randomBytes(4).toString('hex')}`;
  const keyId = `key${randomBytes(4).toString('hex')}`;
  const requestId = `gen${randomBytes(6).toString('hex')}`;
  await store.initBalance(tenantId, { balanceMicros: 10_000_000n, creditsMicros: 10_000_000n, usageMicros: 0n, seq: 0n });
  await store.setKeyStatus(tenantId, keyId, 'active');
  const held = await store.reserve({ tenantId, keyId, requestId, amountMicros: 2_000_000n, overdraftMicros: 0n, holdTtlMs: 60_000, nowMs: Date.now(), tokensEstimate: 10 });
  expect(held.kind).toBe('ok');

  const journaled: { requestId: string; costMicros: bigint }[] = [];
  const settlement = new Settlement(
    new CreditStore(readOnlyUntil(Date.now() + 1500), keys),
    { periodOf: () => null, holdTtlMs: 60_000 } as never,
    { observe: () => undefined } as never,
    { enabled: false } as never,
    { enabled: true, record: (e: { requestId: string; costMicros: bigint }) => journaled.push(e) } as never,
    RATES,
  );
  const started = Date.now();
  await settlement.settle(
    { key: { tenantId, id: keyId, includeByokInLimit: false } as never, requestId, endpoint: 'chat.completions', requestedModel: 'm', stream: false },
    { status: 200, cost: 1_500_000n, byokFee: 0n, attempts: [], totalMs: 1, estimated: false },
  );
  expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  expect(await store.getCredits(tenantId)).toMatchObject({ balance: 8_500_000n, reserved: 0n });
  expect(await redis.xlen(keys.usageStreamOf(tenantId))).toBeGreaterThanOrEqual(1);
  expect(await redis.exists(keys.settled(tenantId, requestId))).toBe(1);
  // Journaled once, by the attempt that charged ...
  expect(journaled).toMatchObject([{ requestId, costMicros: 1_500_000n }]);
  // ... and again by a replay ('already': a resent settle whose first reply was lost), which
  // charges nothing more; the recovery writes a request once.
  await settlement.settle(
    { key: { tenantId, id: keyId, includeByokInLimit: false } as never, requestId, endpoint: 'chat.completions', requestedModel: 'm', stream: false },
    { status: 200, cost: 1_500_000n, byokFee: 0n, attempts: [], totalMs: 1, estimated: false },
  );
  expect(journaled).toHaveLength(2);
  expect(await store.getCredits(tenantId)).toMatchObject({ balance: 8_500_000n, reserved: 0n });
}, 20_000);

it('journals, at shutdown, the settles Redis has not confirmed (they would die with the process)', async () => {
  const journaled: { requestId: string }[] = [];
  const hanging = { settle: () => new Promise(() => undefined) };
  const settlement = new Settlement(
    hanging as never,
    { periodOf: () => null, holdTtlMs: 60_000 } as never,
    { observe: () => undefined } as never,
    { enabled: false } as never,
    { enabled: true, record: (e: { requestId: string }) => journaled.push(e) } as never,
    RATES,
  );
  const call = (requestId: string) =>
    void settlement.settle(
      { key: { tenantId: 'ten_a', id: 'key_a', includeByokInLimit: false } as never, requestId, endpoint: 'chat.completions', requestedModel: 'm', stream: false },
      { status: 200, cost: 10n, byokFee: 0n, attempts: [], totalMs: 1, estimated: false },
    );
  call('gen-hanging-1');
  call('gen-hanging-2');
  expect(journaled).toHaveLength(0);
  settlement.beforeApplicationShutdown();
  expect(journaled.map((e) => e.requestId)).toEqual(['gen-hanging-1', 'gen-hanging-2']);
});

it('records the rate card of a charge in the usage event: captured prices with the markup, or the BYOK fee on an own key', async () => {
  const sent: { event: Record<string, string> }[] = [];
  const settlement = new Settlement(
    { settle: (input: { event: Record<string, string> }) => (sent.push(input), Promise.resolve({ kind: 'settled' })) } as never,
    { periodOf: () => null, holdTtlMs: 60_000 } as never,
    { observe: () => undefined } as never,
    { enabled: false } as never,
    { enabled: false } as never,
    // 2.5% markup, 5% BYOK fee
    new Charges(250n, 500n),
  );
  const price = { input: 150_000n, output: 600_000n, cacheRead: 75_000n, cacheWrite: null };
  const model = { id: 'openai/gpt-4o-mini', provider: 'openai', price };
  const call = { key: { tenantId: 'ten_a', id: 'key_a', includeByokInLimit: false } as never, requestId: 'gen-card', endpoint: 'chat.completions', requestedModel: 'm', stream: false };
  const outcome = { status: 200, attempts: [], totalMs: 1, estimated: false };
  await settlement.settle(call, { ...outcome, candidate: { model, endpoint: {} } as never, cost: 10n });
  await settlement.settle(call, { ...outcome, candidate: { model, endpoint: { credentialId: 'cred_1' } } as never, cost: 0n, byokFee: 1n });
  // Nothing charged (a failed request): no card.
  await settlement.settle(call, { ...outcome, status: 502, candidate: { model, endpoint: {} } as never, cost: 0n });
  expect(JSON.parse(sent[0].event.pricing)).toEqual({ input: 150_000, output: 600_000, cache_read: 75_000, cache_write: null, cache_write_1h: null, markup_bps: 250 });
  expect(JSON.parse(sent[1].event.pricing)).toEqual({ input: 150_000, output: 600_000, cache_read: 75_000, cache_write: null, cache_write_1h: null, byok_fee_bps: 500 });
  expect(sent[2].event.pricing).toBeUndefined();
});
