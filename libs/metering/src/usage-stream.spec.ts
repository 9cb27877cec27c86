import { CreditStore } from './credit-store';
import { bucketOf } from './redis-keys';
import { UsageStream } from './usage-stream';
import { openTenant, reserveInput, USD } from '../test/credit-fixtures';
import { RedisTestEnv, uid } from '../test/redis-test-env';

describe('UsageStream (real Redis)', () => {
  const env = new RedisTestEnv();
  const store = new CreditStore(env.redis, env.keys);
  const workerA = new UsageStream(env.redis, env.keys, { consumer: 'worker-a' });
  const workerB = new UsageStream(env.client(), env.keys, { consumer: 'worker-b' });

  afterAll(() => env.close());

  async function settleOne(t: { tenantId: string; keyId: string }, cost: bigint, event: Record<string, string> = { status: 'ok' }) {
    const r = reserveInput(t, cost);
    await store.reserve(r);
    await store.settle({ ...t, requestId: r.requestId, costMicros: cost, byokFeeMicros: 7n, event });
    return r.requestId;
  }

  it('delivers typed events once per group, re-delivers own pending, and ack deletes them', async () => {
    const t = await openTenant(store, USD);
    const b = bucketOf(t.tenantId);
    const ids = [await settleOne(t, 100n, { status: 'ok', model: 'gpt-x' }), await settleOne(t, 200n)];
    const batch = await workerA.readUsage(b, 10);
    expect(batch.malformed).toEqual([]);
    expect(batch.events.map((e) => e.requestId)).toEqual(ids);
    expect(batch.events[0]).toMatchObject({
      bucket: b,
      tenantId: t.tenantId,
      keyId: t.keyId,
      costMicros: 100n,
      byokFeeMicros: 7n,
      fields: { status: 'ok', model: 'gpt-x' },
    });
    expect((await workerA.readUsage(b, 10)).events).toEqual([]);
    expect((await workerA.readPending(b, 10)).events.map((e) => e.requestId)).toEqual(ids);
    expect(await workerA.ackUsage(b, batch.events.map((e) => e.streamId))).toBe(2);
    expect(await env.redis.xlen(env.keys.usageStream(b))).toBe(0);
    expect((await workerA.readPending(b, 10)).events).toEqual([]);
    expect(await workerA.ackUsage(b, [])).toBe(0);
  });

  it("hands a dead worker's unacknowledged batch to another worker (XAUTOCLAIM)", async () => {
    const t = await openTenant(store, USD);
    const b = bucketOf(t.tenantId);
    const id = await settleOne(t, 300n);
    expect((await workerA.readUsage(b, 10)).events.map((e) => e.requestId)).toEqual([id]);
    // worker-a dies here without acking.
    expect((await workerB.claimStale(b, 60_000, 10)).events).toEqual([]);
    await new Promise((r) => setTimeout(r, 30));
    const claimed = await workerB.claimStale(b, 20, 10);
    expect(claimed.events.map((e) => e.requestId)).toEqual([id]);
    expect((await workerB.readPending(b, 10)).events.map((e) => e.requestId)).toEqual([id]);
    expect((await workerA.readPending(b, 10)).events).toEqual([]);
    expect(await workerB.ackUsage(b, claimed.events.map((e) => e.streamId))).toBe(1);
  });

  it('reports foreign entries as malformed instead of blocking the stream', async () => {
    const t = await openTenant(store, USD);
    const b = bucketOf(t.tenantId);
    const junk = await env.redis.xadd(env.keys.usageStream(b), '*', 'requestId', 'x', 'costMicros', '1.5', 'content', 'a stored prompt', 'note', 'n'.repeat(2000));
    const id = await settleOne(t, 1n);
    const batch = await workerA.readUsage(b, 10);
    expect(batch.events.map((e) => e.requestId)).toEqual([id]);
    expect(batch.malformed).toEqual([expect.objectContaining({ streamId: junk, bucket: b })]);
    await workerA.ackUsage(b, [String(junk), ...batch.events.map((e) => e.streamId)], batch.malformed);
    // Gone from the usage stream, kept with its reason in the bucket's dead-letter stream.
    expect(await env.redis.xrange(env.keys.usageStream(b), junk!, junk!)).toEqual([]);
    const dead = await env.redis.xrange(env.keys.usageDeadLetter(b), '-', '+');
    const mine = dead.map(([, f]) => Object.fromEntries(f.reduce<string[][]>((a, v, i) => (i % 2 ? a : [...a, [v, f[i + 1]!]]), []))).find((d) => d.streamId === junk);
    expect(mine).toMatchObject({ streamId: junk, reason: 'missing requestId, tenantId or keyId' });
    // Without stored content, long values cut.
    expect(JSON.parse(mine!.fields!)).toEqual({ requestId: 'x', costMicros: '1.5', note: `${'n'.repeat(512)}…` });
  });

  it('reads entries an earlier settle wrote (one stream field per event field) like its own', async () => {
    const t = await openTenant(store, USD);
    const b = bucketOf(t.tenantId);
    const legacy = await env.redis.xadd(env.keys.usageStream(b), '*', 'status', '200', 'model', 'gpt-x', 'requestId', 'req_legacy1', 'tenantId', t.tenantId, 'keyId', t.keyId, 'costMicros', '40', 'byokFeeMicros', '2');
    const id = await settleOne(t, 3n, { status: '200', model: 'gpt-y' });
    const batch = await workerA.readUsage(b, 10);
    expect(batch.malformed).toEqual([]);
    expect(batch.events).toEqual([
      expect.objectContaining({ streamId: legacy, requestId: 'req_legacy1', costMicros: 40n, byokFeeMicros: 2n, fields: { status: '200', model: 'gpt-x' } }),
      expect.objectContaining({ requestId: id, costMicros: 3n, byokFeeMicros: 7n, fields: { status: '200', model: 'gpt-y' } }),
    ]);
    expect(await workerA.unwrittenUsageOf(t.tenantId)).toBe(42n + 10n);
    await workerA.ackUsage(b, batch.events.map((e) => e.streamId));
  });

  it('still delivers the charge of an entry whose event field is unreadable, without its details', async () => {
    const t = await openTenant(store, USD);
    const b = bucketOf(t.tenantId);
    const money = (n: number) => ['requestId', `req_bad${n}`, 'tenantId', t.tenantId, 'keyId', t.keyId, 'costMicros', String(100 * n), 'byokFeeMicros', '1'];
    const bad = [
      await env.redis.xadd(env.keys.usageStream(b), '*', ...money(1), 'event', '{"status":'),
      await env.redis.xadd(env.keys.usageStream(b), '*', ...money(2), 'event', '["status"]'),
      await env.redis.xadd(env.keys.usageStream(b), '*', ...money(3), 'event', '{"status":200}'),
    ];
    expect(await workerA.unwrittenUsageOf(t.tenantId)).toBe(600n + 3n);
    const batch = await workerA.readUsage(b, 10);
    expect(batch.malformed).toEqual([]);
    expect(batch.events.map((e) => [e.streamId, e.requestId, e.costMicros, e.byokFeeMicros, e.fields, e.fieldsProblem])).toEqual([
      [bad[0], 'req_bad1', 100n, 1n, {}, 'event is not JSON'],
      [bad[1], 'req_bad2', 200n, 1n, {}, 'event is not a JSON object'],
      [bad[2], 'req_bad3', 300n, 1n, {}, 'event field status is not a string'],
    ]);
    await workerA.ackUsage(b, bad.map(String));
  });

  it('recreates its group when the stream was deleted, and a blocking read times out empty', async () => {
    const t = await openTenant(store, USD);
    const b = bucketOf(t.tenantId);
    await workerA.readUsage(b, 1);
    await env.redis.del(env.keys.usageStream(b));
    const id = await settleOne(t, 5n);
    // The stream came back without the group: NOGROUP is handled by recreating it (from 0).
    const batch = await workerA.readUsage(b, 10);
    expect(batch.events.map((e) => e.requestId)).toEqual([id]);
    await workerA.ackUsage(b, batch.events.map((e) => e.streamId));
    const started = Date.now();
    expect(await workerA.readUsage(b, 10, 50)).toEqual({ events: [], malformed: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('sums a tenant’s unwritten usage across pages, ignoring its bucket neighbours', async () => {
    const t = await openTenant(store, USD);
    let neighbour = uid('ten');
    while (bucketOf(neighbour) !== bucketOf(t.tenantId)) neighbour = uid('ten');
    const n = { tenantId: neighbour, keyId: uid('key') };
    await store.initBalance(n.tenantId, { balanceMicros: USD, creditsMicros: USD, usageMicros: 0n, seq: 0n });
    await store.setKeyStatus(n.tenantId, n.keyId, 'active');
    await Promise.all(Array.from({ length: 520 }, (_, i) => settleOne(t, BigInt(i + 1))));
    await settleOne(n, 999n);
    // Σ (i+1) for i < 520, plus the 7-micro BYOK fee of each.
    expect(await workerA.unwrittenUsageOf(t.tenantId)).toBe(BigInt((520 * 521) / 2 + 520 * 7));
    expect(await workerA.unwrittenUsageOf(n.tenantId)).toBe(999n + 7n);
    expect(await store.getCredits(t.tenantId)).toMatchObject({ usage: BigInt((520 * 521) / 2 + 520 * 7) });
  });

  it('lists all 256 buckets', () => {
    expect(UsageStream.buckets()).toHaveLength(256);
  });
});
