import OpenAI from 'openai';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { bucketOf, RedisKeys, UsageStream } from '@gw/metering';
import { UsageWriter } from '@gw/billing';
import { postChat, startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
});

async function funded(usd: number) {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, usd)).status).toBe(201);
  return { ...s, client: new OpenAI({ baseURL: `${t.url}/v1`, apiKey: s.apiKey, maxRetries: 0 }) };
}

describe('usage settlement into the ledger, exactly once', () => {
  it('writes one ledger row and one request log per request, even when a drain runs twice', async () => {
    const { client, tenantId } = await funded(1);
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `q${i}` }] });
    await Promise.all([t.drain(), t.drain()]);
    await t.drain();
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId, kind: 'usage' } })).toBe(3);
    expect(await t.prisma.requestLog.count({ where: { tenantId } })).toBe(3);
  });

  async function requests(apiKey: string, n: number) {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const r = await postChat(t, apiKey);
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
  }

  it('drains a backlog left pending by this worker (a Postgres outage) in one pass, not 500 entries per pass', async () => {
    const { apiKey, tenantId } = await funded(10);
    const N = 1_100;
    await requests(apiKey, N);
    // The worker read everything, then its writes failed: all of it is pending under its own name.
    const redis = new Redis(t.config.REDIS_URL!);
    try {
      const mine = new UsageStream(redis, new RedisKeys(t.config.REDIS_PREFIX), { consumer: `${hostname()}-${process.pid}` });
      let read = 0;
      for (let i = 0; i < 3; i++) read += (await mine.readUsage(bucketOf(tenantId), 500)).events.length;
      expect(read).toBe(N);
    } finally {
      await redis.quit();
    }
    expect(await t.drain()).toBe(N);
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId, kind: 'usage' } })).toBe(N);
  });

  it('drains a busy tenant\'s backlog of several batches in one pass, not one batch per interval', async () => {
    const { apiKey, tenantId } = await funded(10);
    const N = 1_100;
    await requests(apiKey, N);
    // One tenant: one bucket, more than two full batches waiting.
    expect(await t.drain()).toBe(N);
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId, kind: 'usage' } })).toBe(N);
    expect(await t.prisma.requestLog.count({ where: { tenantId } })).toBe(N);
  });

  it('writes a request whose end user id carries a NUL (Postgres text refuses it), and every other tenant\'s too', async () => {
    const tenants = await Promise.all([funded(1), funded(1), funded(1), funded(1)]);
    const ids: string[] = [];
    for (const [i, s] of tenants.entries()) {
      const r = await s.client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], user: i === 0 ? 'end\u0000user' : `user-${i}` });
      ids.push(r.id);
    }
    await t.drain();
    const logs = await t.prisma.requestLog.findMany({ where: { requestId: { in: ids } }, select: { requestId: true, endUser: true } });
    expect(logs).toHaveLength(4);
    expect(logs.find((l) => l.requestId === ids[0])?.endUser).toBe('enduser');
    for (const s of tenants) expect(await t.prisma.ledgerEntry.count({ where: { tenantId: s.tenantId, kind: 'usage' } })).toBe(1);
  });

  it('charges an entry whose details cannot be read (the money fields are enough), with an empty request log', async () => {
    const s = await funded(1);
    const key = await t.prisma.apiKey.findFirstOrThrow({ where: { tenantId: s.tenantId } });
    const keys = new RedisKeys(t.config.REDIS_PREFIX);
    const redis = new Redis(t.config.REDIS_URL!);
    try {
      // What a settle of an unknown shape could leave: valid ids and amounts, an unreadable event.
      await redis.xadd(keys.usageStreamOf(s.tenantId), '*', 'requestId', 'req_unreadable1', 'tenantId', s.tenantId, 'keyId', key.id, 'costMicros', '1234', 'byokFeeMicros', '0', 'event', '{"status":');
    } finally {
      await redis.quit();
    }
    await t.drain();
    expect(await t.prisma.ledgerEntry.findMany({ where: { tenantId: s.tenantId, kind: 'usage' }, select: { amountMicros: true, idempotencyKey: true } })).toEqual([
      { amountMicros: -1234n, idempotencyKey: 'usage:req_unreadable1' },
    ]);
    expect(await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId: 'req_unreadable1' } })).toMatchObject({ tenantId: s.tenantId, costMicros: 1234n, status: 0 });
  });

  it('stores a logged prompt whose keys carry a NUL (jsonb refuses it; a lone surrogate is refused at the door), without stalling its bucket', async () => {
    const s = await funded(1);
    expect((await call(t.url, 'PUT', '/api/settings/privacy', { token: s.token, body: { log_content: true, retention_days: 7 } })).status).toBe(200);
    // The gateway serves it (the key cache and tenant settings take the change at once).
    const r = await postChat(t, s.apiKey, { messages: [{ role: 'user', content: 'hi \u0000 there', 'x\u0000y': 1 }] });
    expect(r.status).toBe(200);
    const id = r.headers.get('x-request-id')!;
    await t.drain();
    const log = await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId: id } });
    expect(JSON.stringify(log.content)).toContain('"hi  there"');
    expect(JSON.stringify(log.content)).toContain('"xy":1');
    expect(await t.prisma.ledgerEntry.count({ where: { idempotencyKey: `usage:${id}` } })).toBe(1);
  });

  it('writes the rest of a batch when Postgres refuses one event: without its details if that helps, else to the dead-letter stream', async () => {
    const s = await funded(1);
    const key = await t.prisma.apiKey.findFirstOrThrow({ where: { tenantId: s.tenantId } });
    const served = await postChat(t, s.apiKey);
    expect(served.status).toBe(200);
    const keys = new RedisKeys(t.config.REDIS_PREFIX);
    const stream = keys.usageStreamOf(s.tenantId);
    const redis = new Redis(t.config.REDIS_URL!);
    try {
      // Details Postgres refuses (a status beyond int4: 22003): charged without them.
      // (settled yesterday: written after an outage, the charge keeps its day)
      const yesterday = Date.now() - 86_400_000;
      await redis.xadd(stream, '*', 'requestId', 'req_bigstatus1', 'tenantId', s.tenantId, 'keyId', key.id, 'costMicros', '777', 'byokFeeMicros', '0', 'event', JSON.stringify({ status: '99999999999', endpoint: 'chat.completions', requestedModel: 'openai/gpt-4o-mini', createdAtMs: String(yesterday) }));
      // A settle time no Date can hold: written with the drain's time (it threw, failing the batch).
      await redis.xadd(stream, '*', 'requestId', 'req_baddate1', 'tenantId', s.tenantId, 'keyId', key.id, 'costMicros', '3', 'byokFeeMicros', '0', 'event', JSON.stringify({ status: '200', createdAtMs: '1e300' }));
      // A tenant that no longer exists (23503 on the ledger's foreign key): nothing can be written.
      await redis.xadd(stream, '*', 'requestId', 'req_notenant1', 'tenantId', 'ten_gone_for_good', 'keyId', key.id, 'costMicros', '555', 'byokFeeMicros', '0', 'event', JSON.stringify({ endUser: 'someone@example.com', status: '200' }));
      await t.drain();
      expect(await t.prisma.ledgerEntry.findMany({ where: { tenantId: s.tenantId, kind: 'usage' }, select: { amountMicros: true, idempotencyKey: true }, orderBy: { id: 'asc' } })).toEqual([
        { amountMicros: expect.any(BigInt), idempotencyKey: `usage:${served.headers.get('x-request-id')}` },
        { amountMicros: -777n, idempotencyKey: 'usage:req_bigstatus1' },
        { amountMicros: -3n, idempotencyKey: 'usage:req_baddate1' },
      ]);
      expect(await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId: 'req_bigstatus1' } })).toMatchObject({ status: 0, costMicros: 777n, createdAt: new Date(yesterday) });
      expect((await t.prisma.ledgerEntry.findUniqueOrThrow({ where: { idempotencyKey: 'usage:req_bigstatus1' } })).createdAt).toEqual(new Date(yesterday));
      expect(await t.prisma.ledgerEntry.count({ where: { idempotencyKey: 'usage:req_notenant1' } })).toBe(0);
      // Nothing left to read again: the bucket is not stalled.
      expect(await redis.xlen(stream)).toBe(0);
      const dead = await redis.xrange(keys.usageDeadLetter(bucketOf(s.tenantId)), '-', '+');
      const letter = dead.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]]))).find((f) => f.fields?.includes('req_notenant1'));
      expect(letter?.reason).toMatch(/^Postgres refused it \(23503\)/);
      // Its money fields only: no details (the end user here) in a dead letter.
      expect(JSON.parse(letter!.fields)).toEqual({ requestId: 'req_notenant1', tenantId: 'ten_gone_for_good', keyId: key.id, costMicros: '555', byokFeeMicros: '0' });
    } finally {
      await redis.quit();
    }
  });

  it("re-delivers a killed worker's batch to another worker without a second row", async () => {
    const { client, tenantId } = await funded(1);
    await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'one' }] });
    await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'two' }] });
    const bucket = bucketOf(tenantId);
    const redis = new Redis(t.config.REDIS_URL!);
    try {
      const keys = new RedisKeys(t.config.REDIS_PREFIX);
      // A worker reads the batch, commits it to Postgres, and dies before acknowledging it.
      const dead = new UsageStream(redis, keys, { consumer: 'worker-that-dies' });
      const batch = await dead.readUsage(bucket, 100);
      const mine = batch.events.filter((e) => e.tenantId === tenantId);
      expect(mine).toHaveLength(2);
      const writer = t.app.get(UsageWriter);
      await t.prisma.$transaction(async (tx) => {
        await tx.ledgerEntry.createMany({
          data: mine.map((e) => ({ tenantId, kind: 'usage' as const, amountMicros: -e.costMicros, idempotencyKey: `usage:${e.requestId}`, requestId: e.requestId })),
        });
      });
      // Another worker claims the stale entries and writes them again: the unique keys absorb it.
      const survivor = new UsageStream(redis, keys, { consumer: 'survivor' });
      const claimed = await survivor.claimStale(bucket, 0, 100);
      expect(claimed.events.filter((e) => e.tenantId === tenantId)).toHaveLength(2);
      await writer.write(bucket, claimed);
      expect(await t.prisma.ledgerEntry.count({ where: { tenantId, kind: 'usage' } })).toBe(2);
      expect(await t.prisma.requestLog.count({ where: { tenantId } })).toBe(2);
      // Nothing left pending for anyone.
      await t.drain();
      expect(await t.prisma.ledgerEntry.count({ where: { tenantId, kind: 'usage' } })).toBe(2);
      const c = (await t.credits.getCredits(tenantId))!;
      const sum = (await t.prisma.ledgerEntry.findMany({ where: { tenantId } })).reduce((a, r) => a + r.amountMicros, 0n);
      expect(sum).toBe(c.balance);
    } finally {
      await redis.quit();
    }
  });
});

describe('the billing worker on its BullMQ schedule', () => {
  it('drains usage to the ledger within a couple of seconds without being asked', async () => {
    const w = await startTestApp();
    try {
      const s = await w.signup();
      expect((await w.grant(s.tenantId, 1)).status).toBe(201);
      const client = new OpenAI({ baseURL: `${w.url}/v1`, apiKey: s.apiKey, maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      let log = null;
      for (let i = 0; i < 60 && !log; i++) {
        await new Promise((res) => setTimeout(res, 100));
        log = await w.prisma.requestLog.findUnique({ where: { requestId: r.id } });
      }
      expect(log).not.toBeNull();
      expect(await w.prisma.ledgerEntry.count({ where: { idempotencyKey: `usage:${r.id}` } })).toBe(1);
    } finally {
      await w.close();
    }
  });
});
