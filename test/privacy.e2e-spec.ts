import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { eventFieldsOf, RedisKeys } from '@gw/metering';
import { startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';
import { waitFor } from './support/billing';

/**
 * Privacy: prompts and completions are stored nowhere unless the tenant opts in
 * (PUT /api/settings/privacy, effective on the gateway at once), and the scheduled retention job
 * nulls stored content once it is older than the tenant's retention_days and deletes request logs
 * older than REQUEST_LOG_RETENTION_DAYS, on time.
 */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
const DAY = 86_400_000;
const RETENTION_INTERVAL_MS = 300;
let t: TestApp;
let redis: Redis;

beforeAll(async () => {
  // Its own Redis prefix: its retention schedule and queue are this suite's alone.
  t = await startTestApp({ REDIS_PREFIX: `${process.env.REDIS_PREFIX}privacy:`, RETENTION_INTERVAL_MS: String(RETENTION_INTERVAL_MS) }, { billingWorker: false, observabilityWorker: true });
  redis = new Redis(t.config.REDIS_URL!);
});
afterAll(async () => {
  await redis?.quit();
  await t?.close();
});

async function funded() {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, 1)).status).toBe(201);
  return s;
}

async function ask(apiKey: string, prompt: string, answer: string): Promise<string> {
  t.openai.enqueue({ text: answer });
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(answer);
  return res.headers.get('x-request-id')!;
}

/** The usage event of a request as the gateway wrote it to Redis, before the worker drains it (with its request id). */
async function usageEvent(tenantId: string, requestId: string): Promise<Record<string, string>> {
  const entries = await redis.xrange(new RedisKeys(t.config.REDIS_PREFIX).usageStreamOf(tenantId), '-', '+');
  for (const [, flat] of entries) {
    const all: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) all[flat[i]!] = flat[i + 1]!;
    const fields = eventFieldsOf(all);
    if (typeof fields === 'string') throw new Error(`malformed usage event: ${fields}`);
    if (all.requestId === requestId) return { ...fields, requestId };
  }
  throw new Error(`no usage event for ${requestId}`);
}

/** Rows of every table whose text contains `needle` (the whole database, not just request logs). */
async function rowsContaining(needle: string): Promise<string[]> {
  const tables = await t.prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
  const hits: string[] = [];
  for (const { table_name } of tables) {
    const [row] = await t.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM "${table_name}" x WHERE x::text LIKE $1`, `%${needle}%`);
    if (row!.n > 0) hits.push(table_name);
  }
  return hits;
}

describe('GET and PUT /api/settings/privacy', () => {
  it('defaults to no content, validates, and applies a change on the gateway at once', async () => {
    const s = await funded();
    const settings = (token = s.token) => call(t.url, 'GET', '/api/settings/privacy', { token });
    expect((await settings()).body).toEqual({ log_content: false, retention_days: 30, log_retention_days: 90 });

    const secretPrompt = `prompt-canary-${randomUUID()}`;
    const secretAnswer = `completion-canary-${randomUUID()}`;
    const before = await ask(s.apiKey, secretPrompt, secretAnswer);
    expect(await usageEvent(s.tenantId, before)).not.toHaveProperty('content');
    await t.drain();
    expect(await t.prisma.requestLog.count({ where: { requestId: before } })).toBe(1);
    expect(await rowsContaining(secretPrompt)).toEqual([]);
    expect(await rowsContaining(secretAnswer)).toEqual([]);

    for (const bad of [{ log_content: 'yes', retention_days: 7 }, { log_content: true, retention_days: 0 }, { log_content: true, retention_days: 3651 }, { log_content: true }]) {
      expect((await call(t.url, 'PUT', '/api/settings/privacy', { token: s.token, body: bad })).status).toBe(400);
    }
    const put = await call(t.url, 'PUT', '/api/settings/privacy', { token: s.token, body: { log_content: true, retention_days: 7 } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ log_content: true, retention_days: 7, log_retention_days: 90 });
    expect((await settings()).body).toEqual(put.body);

    // The gateway had this tenant cached as not opted in; the invalidation reaches it within moments.
    const prompt = `opted-in-${randomUUID()}`;
    const event = await waitFor('content in the usage event', async () => {
      const e = await usageEvent(s.tenantId, await ask(s.apiKey, prompt, 'stored answer'));
      return e.content ? e : undefined;
    }, 3_000);
    expect(JSON.parse(event.content!)).toEqual({ messages: [{ role: 'user', content: prompt }], completion: 'stored answer' });
    await t.drain();
    const stored = await call(t.url, 'GET', `/api/logs/${event.requestId}`, { token: s.token });
    expect(stored.body).toMatchObject({ content_stored: true, content: { messages: [{ role: 'user', content: prompt }], completion: 'stored answer' } });

    expect((await call(t.url, 'PUT', '/api/settings/privacy', { token: s.token, body: { log_content: false, retention_days: 7 } })).status).toBe(200);
    const after = await waitFor('no content again', async () => {
      const id = await ask(s.apiKey, `after-${randomUUID()}`, 'x');
      return (await usageEvent(s.tenantId, id)).content === undefined ? id : undefined;
    }, 3_000);
    expect(after).toMatch(/^gen-/);
    await t.drain();

    // Another tenant's settings are its own; viewers and management keys cannot change them.
    const other = await t.signup();
    expect((await settings(other.token)).body.log_content).toBe(false);
    const mgmt = await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'm', kind: 'management' } });
    expect((await call(t.url, 'PUT', '/api/settings/privacy', { token: mgmt.body.key, body: { log_content: true, retention_days: 7 } })).status).toBe(403);
  });
});

describe('the retention job', () => {
  interface Row {
    id: string;
    tenantId: string;
    ageMs: number;
    content: boolean;
  }

  it('nulls content past the tenant retention, deletes logs past the global one, on its schedule', async () => {
    const a = await funded();
    expect((await call(t.url, 'PUT', '/api/settings/privacy', { token: a.token, body: { log_content: true, retention_days: 7 } })).status).toBe(200);
    const b = await funded(); // default retention: 30 days
    const now = Date.now();
    // `crossing` turns 7 days old a few seconds from now: the job must clear it then, not before.
    const crossAt = now + 3_000;
    const rows: Record<string, Row> = {
      old: { id: `gen-ret-old-${randomUUID()}`, tenantId: a.tenantId, ageMs: 8 * DAY, content: true },
      young: { id: `gen-ret-young-${randomUUID()}`, tenantId: a.tenantId, ageMs: 6 * DAY, content: true },
      crossing: { id: `gen-ret-crossing-${randomUUID()}`, tenantId: a.tenantId, ageMs: 7 * DAY - 3_000, content: true },
      expired: { id: `gen-ret-expired-${randomUUID()}`, tenantId: a.tenantId, ageMs: 91 * DAY, content: false },
      expiredWithContent: { id: `gen-ret-expired2-${randomUUID()}`, tenantId: a.tenantId, ageMs: 90 * DAY + 60_000, content: true },
      otherTenant: { id: `gen-ret-other-${randomUUID()}`, tenantId: b.tenantId, ageMs: 8 * DAY, content: true },
    };
    await t.prisma.requestLog.createMany({
      data: Object.values(rows).map((r) => ({
        requestId: r.id,
        tenantId: r.tenantId,
        requestedModel: 'openai/gpt-4o-mini',
        endpoint: 'chat.completions',
        status: 200,
        createdAt: new Date(now - r.ageMs),
        ...(r.content ? { content: { messages: [{ role: 'user', content: `secret ${r.id}` }], completion: 'answer' } } : {}),
      })),
    });
    const state = async (r: Row) => {
      const row = await t.prisma.requestLog.findUnique({ where: { requestId: r.id }, select: { content: true } });
      return row === null ? 'deleted' : row.content === null ? 'no content' : 'content';
    };

    // One pass clears the tenant's content, then deletes its expired logs: wait for both steps
    // (a probe between them saw the expired log still there, once in CI).
    await waitFor('the old content cleared and the expired logs deleted', async () => (await state(rows.old!)) === 'no content' && (await state(rows.expired!)) === 'deleted', 10_000);
    expect(Date.now()).toBeLessThan(crossAt);
    expect(await state(rows.crossing!)).toBe('content');
    expect(await state(rows.young!)).toBe('content');
    expect(await state(rows.expired!)).toBe('deleted');
    expect(await state(rows.expiredWithContent!)).toBe('deleted');
    expect(await state(rows.otherTenant!)).toBe('content');

    // What the tenant sees: the stored content while it lives, none after.
    const young = await call(t.url, 'GET', `/api/logs/${rows.young!.id}`, { token: a.token });
    expect(young.body).toMatchObject({ content_stored: true, content: { completion: 'answer' } });
    const listed = await call(t.url, 'GET', '/api/logs?limit=100', { token: a.token });
    const flags = Object.fromEntries(listed.body.data.map((x: { id: string; content_stored: boolean }) => [x.id, x.content_stored]));
    expect(flags).toMatchObject({ [rows.young!.id]: true, [rows.old!.id]: false, [rows.crossing!.id]: true });
    expect(flags).not.toHaveProperty(rows.expired!.id);

    // On time: cleared within a few runs of the job after it turned 7 days old.
    await waitFor('the crossing content cleared', async () => (await state(rows.crossing!)) === 'no content', 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(crossAt);
    expect(Date.now()).toBeLessThan(crossAt + 5 * RETENTION_INTERVAL_MS + 2_000);
    expect(await state(rows.young!)).toBe('content');

    // A tenant may drop its stored content at any time, keeping the records.
    expect((await call(t.url, 'DELETE', '/api/logs?content_only=true', { token: a.token })).body).toEqual({ deleted: 1 });
    expect(await state(rows.young!)).toBe('no content');
    expect(await state(rows.otherTenant!)).toBe('content');
  });

  it('forgets processed Stripe event ids after 90 days, keeping younger ones', async () => {
    const now = Date.now();
    const old = `evt_ret_old_${randomUUID()}`;
    const young = `evt_ret_young_${randomUUID()}`;
    await t.prisma.processedStripeEvent.createMany({
      data: [
        { id: old, type: 'checkout.session.completed', processedAt: new Date(now - 91 * DAY) },
        { id: young, type: 'checkout.session.completed', processedAt: new Date(now - 89 * DAY) },
      ],
    });
    await waitFor('the old event id forgotten', async () => (await t.prisma.processedStripeEvent.count({ where: { id: old } })) === 0, 10_000);
    expect(await t.prisma.processedStripeEvent.count({ where: { id: young } })).toBe(1);
  });
});
