import { FakeAnthropicServer } from '@gw/testing';
import { startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';

/**
 * Request logs: requests with fallbacks (one through the tenant's own Anthropic key), retries,
 * client and upstream errors, a stream and a second key, each found through GET /api/logs and
 * GET /v1/generation, correct to the field; filters, keyset paging, one record, deletion; and the
 * spend report over the same requests (GET /api/usage).
 */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
const OWN_ANTHROPIC = 'sk-ant-tenant-own-logs-key-4242';
let t: TestApp;
let own: FakeAnthropicServer;

interface Sent {
  id: string;
  status: number;
  user?: string;
  keyId: string;
  expect: Record<string, unknown>;
}
let tenant: { token: string; tenantId: string; apiKey: string };
let key1: string;
let key2: { id: string; key: string };
const sent: Sent[] = [];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function chat(apiKey: string, body: Record<string, unknown>, fake?: Record<string, unknown>): Promise<{ status: number; id: string; body: Json; text: string }> {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...(fake ? { 'x-fake-behaviour': JSON.stringify(fake) } : {}) },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, id: res.headers.get('x-request-id')!, body: parsed, text };
}

const logs = (query = '') => call(t.url, 'GET', `/api/logs${query}`, { token: tenant.token });
const ids = (r: { body: { data: Array<{ id: string }> } }) => r.body.data.map((x) => x.id);

beforeAll(async () => {
  // Its own Redis prefix: the injected upstream failures must not open circuits for other suites of this worker, nor theirs ours.
  t = await startTestApp({ REDIS_PREFIX: `${process.env.REDIS_PREFIX}logs:`, ALLOW_PRIVATE_PROVIDER_URLS: 'true' }, { billingWorker: false });
  own = new FakeAnthropicServer({ apiKey: OWN_ANTHROPIC });
  await own.start();
  tenant = await t.signup();
  expect((await t.grant(tenant.tenantId, 5)).status).toBe(201);
  key1 = (await t.prisma.apiKey.findFirstOrThrow({ where: { tenantId: tenant.tenantId } })).id;
  const k = await call(t.url, 'POST', '/api/keys', { token: tenant.token, body: { name: 'second' } });
  key2 = { id: k.body.id, key: k.body.key };
  const pk = await call(t.url, 'POST', '/api/provider-keys', { token: tenant.token, body: { provider: 'anthropic', api_key: OWN_ANTHROPIC, base_url: own.baseUrl, priority: 'first' } });
  expect(pk.status).toBe(201);

  // 1. Served at once.
  t.openai.enqueue({ promptTokens: 11, completionTokens: 7, text: 'one' });
  let r = await chat(tenant.apiKey, { model: 'openai/gpt-4o-mini', user: 'alice' });
  expect(r.status).toBe(200);
  sent.push({ id: r.id, status: 200, user: 'alice', keyId: key1, expect: { model: 'openai/gpt-4o-mini', provider: 'openai', tokens_prompt: 11, tokens_completion: 7, byok: false, usage: r.body.usage.cost, attempts: [['openai/gpt-4o-mini', 'openai', 200, null]] } });

  // 2. Rate limited twice (a retry, then the fallback), served by the fallback on the tenant's own key.
  t.openai.enqueue({ status: 429, retryAfter: 0 }, { status: 429, retryAfter: 0 });
  own.enqueue({ promptTokens: 20, completionTokens: 5, text: 'two' });
  r = await chat(tenant.apiKey, { model: 'openai/gpt-4o-mini', models: ['anthropic/claude-haiku-4.5'], user: 'bob' });
  expect(r.status).toBe(200);
  sent.push({
    id: r.id, status: 200, user: 'bob', keyId: key1,
    expect: { model: 'anthropic/claude-haiku-4.5', provider: 'anthropic', tokens_prompt: 20, tokens_completion: 5, byok: true, cost: 0, usage: r.body.usage.cost,
      attempts: [['openai/gpt-4o-mini', 'openai', 429, 'upstream_rate_limited'], ['openai/gpt-4o-mini', 'openai', 429, 'upstream_rate_limited'], ['anthropic/claude-haiku-4.5', 'anthropic', 200, null]] },
  });

  // 3. The provider refuses the request itself (400): no retry, no fallback, nothing charged.
  t.openai.enqueue({ status: 400, errorMessage: 'bad request' });
  r = await chat(tenant.apiKey, { model: 'openai/gpt-4o-mini', models: ['anthropic/claude-haiku-4.5'] });
  expect(r.status).toBe(400);
  sent.push({ id: r.id, status: 400, keyId: key1, expect: { model: null, provider: null, error_code: r.body.error.code, tokens_prompt: 0, usage: 0, attempts: [['openai/gpt-4o-mini', 'openai', 400, r.body.error.code]] } });

  // 4. Everything fails: the primary twice (one retry), then the fallback on the tenant's key, then on the platform's.
  t.openai.enqueue({ status: 500, times: 2 });
  own.enqueue({ status: 503, times: 2 });
  t.anthropic.enqueue({ status: 503, times: 2 });
  r = await chat(tenant.apiKey, { model: 'openai/gpt-4o-mini', models: ['anthropic/claude-haiku-4.5'] });
  expect(r.status).toBeGreaterThanOrEqual(500);
  sent.push({ id: r.id, status: r.status, keyId: key1, expect: { model: null, provider: null, error_code: r.body.error.code, usage: 0, attempts: 6 } });

  // 5. A stream with usage.
  t.openai.enqueue({ promptTokens: 9, completionTokens: 4, text: 'a b c d' });
  r = await chat(tenant.apiKey, { model: 'openai/gpt-4o-mini', stream: true, stream_options: { include_usage: true }, user: 'alice' });
  expect(r.status).toBe(200);
  const usageChunk = r.text.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6))).find((c) => c.usage);
  sent.push({ id: r.id, status: 200, user: 'alice', keyId: key1, expect: { model: 'openai/gpt-4o-mini', provider: 'openai', streamed: true, tokens_prompt: 9, tokens_completion: 4, usage: usageChunk.usage.cost, finish_reason: 'stop' } });

  // 6. The second key.
  t.openai.enqueue({ promptTokens: 3, completionTokens: 2 });
  r = await chat(key2.key, { model: 'openai/gpt-4o-mini', user: 'carol' });
  expect(r.status).toBe(200);
  sent.push({ id: r.id, status: 200, user: 'carol', keyId: key2.id, expect: { model: 'openai/gpt-4o-mini', provider: 'openai', tokens_prompt: 3, tokens_completion: 2, usage: r.body.usage.cost } });

  await t.drain();
});
afterAll(async () => {
  await Promise.all([t?.close(), own?.close()]);
});

describe('GET /api/logs and GET /v1/generation', () => {
  it('find every request, newest first, with the same fields on both planes and the values that were sent', async () => {
    const list = await logs('?limit=100');
    expect(list.status).toBe(200);
    expect(ids(list)).toEqual(sent.map((s) => s.id).reverse());
    for (const s of sent) {
      const entry = list.body.data.find((x: Json) => x.id === s.id);
      const gen = await fetch(`${t.url}/v1/generation?id=${s.id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
      expect(gen.status).toBe(200);
      const g = ((await gen.json()) as Json).data;
      // Every field /v1/generation has, /api/logs has with the same value.
      for (const [field, value] of Object.entries(g)) expect([s.id, field, entry[field]]).toEqual([s.id, field, value]);
      expect(entry).toMatchObject({ requested_model: 'openai/gpt-4o-mini', endpoint: 'chat.completions', status: s.status, user: s.user ?? null, api_key_id: s.keyId, content_stored: false, estimated: false });
      const { attempts, ...rest } = s.expect;
      expect(entry).toMatchObject(rest);
      if (typeof attempts === 'number') {
        expect(entry.attempts).toHaveLength(attempts);
        expect(entry.attempts.every((a: Json) => a.status >= 500 && a.error)).toBe(true);
      }
      else if (attempts) expect(entry.attempts.map((a: Json) => [a.model, a.provider, a.status, a.error ?? null])).toEqual(attempts);
      if (s.status >= 400) expect(entry).toMatchObject({ cost: 0, byok_fee: 0, tokens_completion: 0, pricing: null });
      if (s.status === 200) {
        expect(entry.error_code).toBeNull();
        expect(entry.latency.total_ms).toBeGreaterThanOrEqual(entry.latency.time_to_first_byte_ms);
        expect(entry.latency.time_to_first_byte_ms).toBeGreaterThanOrEqual(entry.latency.gateway_overhead_ms);
        expect(entry.latency.gateway_overhead_ms).toBeGreaterThan(0);
      }
      expect(Date.parse(entry.created_at)).toBeGreaterThan(Date.now() - 60_000);
    }
    // The BYOK-served request was charged the BYOK fee only.
    const byok = list.body.data.find((x: Json) => x.id === sent[1]!.id);
    expect(byok.byok_fee).toBeGreaterThan(0);
    expect(byok.usage).toBe(byok.byok_fee);
  });

  it('filters by model, provider, key, status, user, error code and time', async () => {
    const [ok, fallback, clientError, failed, stream, second] = sent.map((s) => s.id);
    const cases: Array<[string, string[]]> = [
      ['model=anthropic/claude-haiku-4.5', [fallback!]],
      ['provider=openai', [second!, stream!, ok!]],
      [`key=${key2.id}`, [second!]],
      [`key=${key1}&provider=openai`, [stream!, ok!]],
      ['status=200', [second!, stream!, fallback!, ok!]],
      ['status=success', [second!, stream!, fallback!, ok!]],
      ['status=4xx', [clientError!]],
      ['status=5xx', [failed!]],
      ['status=error', [failed!, clientError!]],
      ['user=alice', [stream!, ok!]],
      [`error_code=${sent[2]!.expect.error_code}`, [clientError!]],
      ['model=openai/gpt-4o-mini&user=nobody', []],
    ];
    for (const [q, expected] of cases) expect([q, ids(await logs(`?${q}`))]).toEqual([q, expected]);
    const all = (await logs()).body.data as Json[];
    const createdOf = (id: string) => all.find((x) => x.id === id).created_at as string;
    expect(ids(await logs(`?from=${encodeURIComponent(createdOf(failed!))}`))).toEqual([second, stream, failed]);
    expect(ids(await logs(`?to=${encodeURIComponent(createdOf(fallback!))}`))).toEqual([ok]);
    expect((await logs(`?from=${encodeURIComponent(createdOf(failed!))}&to=${encodeURIComponent(createdOf(ok!))}`)).body.error.param).toBe('from');
  });

  it('pages with limit and cursor, stable and without duplicates', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await logs(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(sent.map((s) => s.id).reverse());
  });

  it('answers one record with its (absent) content, and refuses management keys', async () => {
    const one = await call(t.url, 'GET', `/api/logs/${sent[1]!.id}`, { token: tenant.token });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: sent[1]!.id, provider: 'anthropic', content: null, content_stored: false });
    expect((await call(t.url, 'GET', '/api/logs/gen-nope', { token: tenant.token })).status).toBe(404);
    const mgmt = await call(t.url, 'POST', '/api/keys', { token: tenant.token, body: { name: 'mgmt', kind: 'management' } });
    expect((await call(t.url, 'GET', '/api/logs', { token: mgmt.body.key })).status).toBe(403);
    expect((await call(t.url, 'GET', '/api/usage', { token: mgmt.body.key })).status).toBe(200);
  });
});

describe('GET /api/usage', () => {
  const micros = (usd: number) => Math.round(usd * 1e6);

  it('groups spend and tokens by model, provider, key, user and day, with the cost per million tokens paid', async () => {
    const all = (await logs('?limit=100')).body.data as Json[];
    const sum = (rows: Json[]) => {
      const tokens = rows.reduce((a, r) => a + r.tokens_prompt + r.tokens_completion, 0);
      const paid = rows.reduce((a, r) => a + micros(r.usage), 0);
      return { requests: rows.length, total_tokens: tokens, total_cost_micros: String(paid), cost_per_million_tokens: tokens ? Math.round((paid / tokens) * 1e6) / 1e6 : null };
    };
    const report = async (groupBy: string) => {
      const r = await call(t.url, 'GET', `/api/usage?group_by=${groupBy}`, { token: tenant.token });
      expect(r.status).toBe(200);
      return r.body;
    };
    const byModel = await report('model');
    const servedOrAsked = (r: Json) => r.model ?? r.requested_model;
    for (const model of ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4.5']) {
      expect(byModel.data.find((g: Json) => g.model === model)).toMatchObject(sum(all.filter((r) => servedOrAsked(r) === model)));
    }
    expect(byModel.totals).toMatchObject({ ...sum(all), errors: 2 });
    // Most expensive first.
    const paid = byModel.data.map((g: Json) => Number(g.total_cost_micros));
    expect(paid).toEqual([...paid].sort((a: number, b: number) => b - a));

    const byProvider = await report('provider');
    expect(byProvider.data.find((g: Json) => g.provider === 'anthropic')).toMatchObject({ ...sum(all.filter((r) => r.provider === 'anthropic')), byok_fee: all[4].byok_fee });
    expect(byProvider.data.find((g: Json) => g.provider === null)).toMatchObject({ requests: 2, errors: 2, total_cost_micros: '0', cost_per_million_tokens: null });

    const byKey = await report('key');
    expect(byKey.data.find((g: Json) => g.key === key2.id)).toMatchObject(sum(all.filter((r) => r.api_key_id === key2.id)));
    const byUser = await report('user');
    expect(byUser.data.find((g: Json) => g.user === 'alice')).toMatchObject(sum(all.filter((r) => r.user === 'alice')));
    expect(byUser.data.find((g: Json) => g.user === null)).toMatchObject({ requests: 2 });

    const byDayAndModel = await report('day,model');
    const today = new Date().toISOString().slice(0, 10);
    expect(byDayAndModel.data.every((g: Json) => g.day === today)).toBe(true);
    expect(byDayAndModel.data).toHaveLength(2);
  });

  it('pages groups with a cursor, filters like the logs, and refuses bad group_by values', async () => {
    const full = await call(t.url, 'GET', '/api/usage?group_by=user,key', { token: tenant.token });
    const seen: Json[] = [];
    let cursor: string | null = null;
    do {
      const page = await call(t.url, 'GET', `/api/usage?group_by=user,key&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: tenant.token });
      seen.push(...page.body.data);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(full.body.data);
    expect(seen.length).toBe(4);
    const alice = await call(t.url, 'GET', '/api/usage?group_by=model&user=alice&status=success', { token: tenant.token });
    expect(alice.body.totals.requests).toBe(2);
    for (const bad of ['model,model', 'tenant', 'model,day,user,key']) {
      const r = await call(t.url, 'GET', `/api/usage?group_by=${bad}`, { token: tenant.token });
      expect([bad, r.status, r.body.error.param]).toEqual([bad, 400, 'group_by']);
    }
    const old = await call(t.url, 'GET', '/api/usage?to=2020-01-01T00:00:00Z&from=2019-01-01T00:00:00Z', { token: tenant.token });
    expect(old.body).toMatchObject({ data: [], totals: { requests: 0 } });
    const endOnly = await call(t.url, 'GET', '/api/usage?to=2020-01-31T00:00:00Z', { token: tenant.token });
    expect(endOnly.body).toMatchObject({ from: '2020-01-01T00:00:00.000Z', to: '2020-01-31T00:00:00.000Z', group_by: ['model'] });
  });
});

describe('end users with the longest ids a request may carry (512 characters)', () => {
  it('are found by the logs filter and page through /api/usage by user', async () => {
    const other = await t.signup();
    expect((await t.grant(other.tenantId, 1)).status).toBe(201);
    const users = ['a', 'b', 'c'].map((c) => c.repeat(512));
    for (const user of users) {
      t.openai.enqueue({ promptTokens: 3, completionTokens: 2 });
      expect((await chat(other.apiKey, { model: 'openai/gpt-4o-mini', user })).status).toBe(200);
    }
    await t.drain();
    const found = await call(t.url, 'GET', `/api/logs?user=${users[1]}`, { token: other.token });
    expect([found.status, found.body.data.length]).toEqual([200, 1]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await call(t.url, 'GET', `/api/usage?group_by=user,model&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: other.token });
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((g: Json) => g.user));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(users);
  });
});

describe('DELETE /api/logs', () => {
  it('deletes one record, then the matching ones, then all; /v1/generation forgets them too', async () => {
    const [ok] = sent;
    expect((await call(t.url, 'DELETE', `/api/logs/${ok!.id}`, { token: tenant.token })).body).toEqual({ id: ok!.id, deleted: true });
    expect((await call(t.url, 'GET', `/api/logs/${ok!.id}`, { token: tenant.token })).status).toBe(404);
    expect((await fetch(`${t.url}/v1/generation?id=${ok!.id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } })).status).toBe(404);
    expect((await call(t.url, 'DELETE', `/api/logs/${ok!.id}`, { token: tenant.token })).status).toBe(404);
    expect((await call(t.url, 'DELETE', '/api/logs?status=5xx', { token: tenant.token })).body).toEqual({ deleted: 1 });
    expect((await call(t.url, 'DELETE', '/api/logs?content_only=true', { token: tenant.token })).body).toEqual({ deleted: 0 });
    expect((await call(t.url, 'DELETE', '/api/logs', { token: tenant.token })).body).toEqual({ deleted: 4 });
    expect((await logs()).body.data).toEqual([]);
    expect((await call(t.url, 'DELETE', '/api/logs?limit=5', { token: tenant.token })).status).toBe(400);
    // The ledger is the money's record and stays whole.
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId: tenant.tenantId, kind: { in: ['usage', 'byok_fee'] } } })).toBe(4);
  });
});
