import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BILLING_QUEUE, BillingJob, CreditSync, ReconciliationService, UsageWriter } from '@gw/billing';
import { RedisRecovery } from '@gw/billing/worker';
import { bucketOf, CreditStore, RedisKeys, UsageStream } from '@gw/metering';
import { ledgerSum, waitFor } from './support/billing';
import { TcpProxy } from './support/tcp-proxy';
import { startTestApp, type TestApp } from './support/test-app';

/** The ledger is the truth: exactly-once usage writes, reconciliation, and recovery from Redis loss. */
let t: TestApp;
let redis: Redis;

beforeAll(async () => {
  t = await startTestApp();
  redis = new Redis(t.config.REDIS_URL!);
});
afterAll(async () => {
  await redis?.quit();
  await t?.close();
});

const BODY = JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
const chat = (app: TestApp, key: string) =>
  fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: BODY }).then(async (r) => ({
    status: r.status,
    retryAfter: r.headers.get('retry-after'),
    body: (await r.json()) as { id?: string; error?: { code: string } },
  }));

async function funded(app: TestApp, usd: number) {
  const s = await app.signup();
  expect((await app.grant(s.tenantId, usd)).status).toBe(201);
  return s;
}

/** Deletes every key under a prefix (never FLUSHALL: other suites share this Redis). */
async function flushPrefix(prefix: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}

/** Another app on its own Redis prefix whose worker drains and reconciles only when the test says. */
const HOUR = String(3_600_000);
const isolated = (tag: string, env: Record<string, string> = {}) =>
  startTestApp({ REDIS_PREFIX: `${process.env.REDIS_PREFIX}${tag}:`, USAGE_DRAIN_INTERVAL_MS: HOUR, RECONCILE_INTERVAL_MS: HOUR, AUTO_TOPUP_SCAN_INTERVAL_MS: HOUR, ...env });

describe('usage is written exactly once', () => {
  it('a settle batch written twice (a job retried after its commit) and two drain jobs at once write one row each', async () => {
    const a = await isolated('twice');
    try {
      const s = await funded(a, 1);
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await chat(a, s.apiKey)).body.id!);
      const bucket = bucketOf(s.tenantId);
      const stream = new UsageStream(redis, new RedisKeys(a.config.REDIS_PREFIX), { consumer: 'retried-job' });
      const batch = await stream.readUsage(bucket, 100);
      const writer = a.app.get(UsageWriter);
      await writer.write(bucket, batch);
      await writer.write(bucket, batch);
      await Promise.all([a.drain(), a.drain()]);
      const rows = await a.prisma.ledgerEntry.findMany({ where: { tenantId: s.tenantId, kind: 'usage' } });
      expect(rows.map((r) => r.idempotencyKey).sort()).toEqual(ids.map((id) => `usage:${id}`).sort());
      expect(await ledgerSum(a, s.tenantId)).toBe((await a.credits.getCredits(s.tenantId))!.balance);
    } finally {
      await a.close();
    }
    // The worker's BullMQ drain job, added twice at once next to its scheduler.
    const s = await funded(t, 1);
    const r = await chat(t, s.apiKey);
    const queue = t.app.get<Queue>(getQueueToken(BILLING_QUEUE));
    await Promise.all([queue.add(BillingJob.DrainUsage, {}), queue.add(BillingJob.DrainUsage, {})]);
    await waitFor('the usage row', async () => (await t.prisma.ledgerEntry.count({ where: { tenantId: s.tenantId, kind: 'usage' } })) > 0);
    await t.drain();
    expect(await t.prisma.ledgerEntry.findMany({ where: { tenantId: s.tenantId, kind: 'usage' } })).toEqual([expect.objectContaining({ idempotencyKey: `usage:${r.body.id}` })]);
  });
});

describe('reconciliation', () => {
  it('repairs drift only when nothing is pending, and reports what it did', async () => {
    const a = await isolated('recon');
    try {
      const s = await funded(a, 1);
      await chat(a, s.apiKey);
      const reconcile = a.app.get(ReconciliationService);
      const keys = new RedisKeys(a.config.REDIS_PREFIX);
      // Drift while usage is still unwritten: reported pending, left alone.
      await redis.hincrby(keys.balance(s.tenantId), 'bal', 123_456);
      const pending = await reconcile.run();
      expect(pending.pending).toBeGreaterThanOrEqual(1);
      expect(pending.drifts.map((d) => d.tenantId)).not.toContain(s.tenantId);
      // Once the usage is in the ledger and Redis is quiet, it is repaired to the micro.
      await a.drain();
      const before = (await a.credits.getCredits(s.tenantId))!.balance;
      const report = await reconcile.run();
      expect(report.drifts).toContainEqual({ tenantId: s.tenantId, redisMicros: before.toString(), expectedMicros: (before - 123_456n).toString() });
      expect((await a.credits.getCredits(s.tenantId))!.balance).toBe(await ledgerSum(a, s.tenantId));
      // A ledger credit not yet in Redis (its push was lost) is applied, not called drift.
      await a.prisma.$transaction(async (tx) => {
        const [row] = await tx.$queryRaw<{ ledger_seq: bigint }[]>`UPDATE tenants SET ledger_seq = ledger_seq + 1 WHERE id = ${s.tenantId} RETURNING ledger_seq`;
        await tx.ledgerEntry.create({ data: { tenantId: s.tenantId, kind: 'promo', amountMicros: 5_000n, idempotencyKey: `promo:lost-push:${s.tenantId}`, seq: row.ledger_seq } });
      });
      const again = await reconcile.run();
      expect(again.drifts.map((d) => d.tenantId)).not.toContain(s.tenantId);
      expect((await a.credits.getCredits(s.tenantId))!.balance).toBe(await ledgerSum(a, s.tenantId));
      expect(again.tenants).toBeGreaterThan(0);
      expect(again.ok).toBeGreaterThan(0);
    } finally {
      await a.close();
    }
  });
});

describe('Redis loss', () => {
  it('after a flush of all its keys, recovers key statuses, job schedules and every balance exactly from the ledger', async () => {
    const tenants = await Promise.all([1, 2, 3].map((usd) => funded(t, usd)));
    for (const s of tenants) for (let i = 0; i < 3; i++) expect((await chat(t, s.apiKey)).status).toBe(200);
    await t.drain();
    const expected = await Promise.all(tenants.map((s) => ledgerSum(t, s.tenantId)));
    expect(await Promise.all(tenants.map(async (s) => (await t.credits.getCredits(s.tenantId))!.balance))).toEqual(expected);

    expect(await flushPrefix(t.config.REDIS_PREFIX)).toBeGreaterThan(0);
    // Never served unmetered meanwhile: refused (key status or balance missing) until recovered.
    const during = await chat(t, tenants[0].apiKey);
    expect([401, 503]).toContain(during.status);

    // (Its own 5 s timer may get there first; either way the state below is what it restores.)
    await t.app.get(RedisRecovery).check();
    expect(await Promise.all(tenants.map(async (s) => (await t.credits.getCredits(s.tenantId))!.balance))).toEqual(expected);
    expect((await t.credits.getCredits(tenants[0].tenantId))!.reserved).toBe(0n);
    const schedulers = await t.app.get<Queue>(getQueueToken(BILLING_QUEUE)).getJobSchedulers();
    expect(schedulers.map((j) => j.key).sort()).toEqual(['autotopup-scan', 'holds-sweep', 'ledger-reconcile', 'usage-drain']);

    const after = await chat(t, tenants[1].apiKey);
    expect(after.status).toBe(200);
    await waitFor('the scheduled drain', async () => (await t.prisma.ledgerEntry.count({ where: { idempotencyKey: `usage:${after.body.id}` } })) === 1);
    for (const s of tenants) {
      const credits = (await (await fetch(`${t.url}/v1/credits`, { headers: { authorization: `Bearer ${s.apiKey}` } })).json()) as { data: { balance: number } };
      const sum = await ledgerSum(t, s.tenantId);
      expect((await t.credits.getCredits(s.tenantId))!.balance).toBe(sum);
      expect(credits.data.balance).toBe(Number(sum) / 1e6);
    }
  });

  it('rebuilds a lost balance from the ledger minus the usage still in the stream (503 meanwhile)', async () => {
    const a = await isolated('lost');
    try {
      const s = await funded(a, 1);
      for (let i = 0; i < 4; i++) await chat(a, s.apiKey);
      await a.drain();
      for (let i = 0; i < 3; i++) await chat(a, s.apiKey);
      const truth = (await a.credits.getCredits(s.tenantId))!.balance;
      const unwritten = await a.app.get(UsageStream).unwrittenUsageOf(s.tenantId);
      expect(unwritten).toBeGreaterThan(0n);
      await redis.del(new RedisKeys(a.config.REDIS_PREFIX).balance(s.tenantId));
      const refused = await chat(a, s.apiKey);
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatchObject({ code: 'billing_unavailable' });
      expect(refused.retryAfter).toBe('1');
      await waitFor('the rebuild', () => a.credits.getCredits(s.tenantId));
      expect((await a.credits.getCredits(s.tenantId))!.balance).toBe(truth);
      expect(truth).toBe((await ledgerSum(a, s.tenantId)) - unwritten);
      await a.drain();
      expect(await ledgerSum(a, s.tenantId)).toBe(truth);
      expect((await chat(a, s.apiKey)).status).toBe(200);
    } finally {
      await a.close();
    }
  });

  it('answers 503 with Retry-After while Redis is unreachable, never serving unmetered, and recovers', async () => {
    const url = new URL(t.config.REDIS_URL!);
    const proxy = new TcpProxy(url.hostname, Number(url.port || 6379));
    const port = await proxy.start();
    const a = await startTestApp({ REDIS_PREFIX: `${process.env.REDIS_PREFIX}down:`, REDIS_URL: `redis://127.0.0.1:${port}` }, { billingWorker: false });
    try {
      const s = await funded(a, 1);
      expect((await chat(a, s.apiKey)).status).toBe(200);
      a.openai.reset();
      await proxy.cut();
      const down = await chat(a, s.apiKey);
      expect(down.status).toBe(503);
      expect(down.body.error).toMatchObject({ code: 'billing_unavailable' });
      expect(down.retryAfter).not.toBeNull();
      expect((await fetch(`${a.url}/readyz`)).status).toBe(503);
      expect(a.openai.requests).toHaveLength(0);
      await proxy.restore();
      const back = await waitFor('Redis back', async () => {
        const r = await chat(a, s.apiKey);
        return r.status === 200 && r;
      });
      expect(back.status).toBe(200);
      await a.drain();
      expect(await ledgerSum(a, s.tenantId)).toBe((await a.credits.getCredits(s.tenantId))!.balance);
    } finally {
      await a.close();
      await proxy.cut();
    }
  }, 20_000);
});

describe('CreditSync.rebuild', () => {
  it('is a no-op when the balance exists (a stale rebuild never overwrites a live balance)', async () => {
    const s = await funded(t, 2);
    const before = (await t.credits.getCredits(s.tenantId))!;
    await t.app.get(CreditSync).rebuild(s.tenantId);
    expect(await t.app.get(CreditStore).getCredits(s.tenantId)).toEqual(before);
  });
});
