import { FakeOpenAiServer } from '@gw/testing';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';

/**
 * Per-tenant caps on the platform's own provider credentials (PLATFORM_TENANT_CAPS, overridden per
 * tenant by an operator): one tenant cannot use up the quota every tenant shares. A capped attempt
 * is skipped like a failed one (the plan moves on), the tenant's own keys are never capped, and a
 * request with nothing left gets 429 with Retry-After.
 */
jest.setTimeout(60_000);
const OWN_OPENAI = 'sk-tenant-own-openai-key-5555';
let t: TestApp;
let own: FakeOpenAiServer;

beforeAll(async () => {
  t = await startTestApp({ PLATFORM_TENANT_CAPS: '{"openai":{"rpm":2}}', ALLOW_PRIVATE_PROVIDER_URLS: 'true' }, { billingWorker: false });
  own = new FakeOpenAiServer({ apiKey: OWN_OPENAI });
  await own.start();
});
afterAll(async () => {
  await Promise.all([t?.close(), own?.close()]);
});
afterEach(() => {
  t.openai.reset().setDefaults({});
  t.anthropic.reset();
});

async function tenant() {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, 5)).status).toBe(201);
  return s;
}

const chat = (apiKey: string, body: Record<string, unknown> = {}) =>
  fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });

async function generation(apiKey: string, id: string) {
  await t.drain();
  const r = await fetch(`${t.url}/v1/generation?id=${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
  return ((await r.json()) as { data: { attempts: { model: string; status: number; error?: string; byok?: boolean }[]; status: number } }).data;
}

describe('platform caps per tenant', () => {
  it('refuses the request over the rpm cap with 429 and Retry-After, for that tenant only', async () => {
    const a = await tenant();
    const b = await tenant();
    await awayFromMinuteEdge();
    for (let i = 0; i < 2; i++) expect((await chat(a.apiKey)).status).toBe(200);
    const capped = await chat(a.apiKey);
    expect(capped.status).toBe(429);
    expect(Number(capped.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(capped.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await capped.json()).toMatchObject({ error: { code: 'rate_limit_exceeded', type: 'rate_limit_error', message: expect.stringContaining('openai capacity') } });
    expect(t.openai.requests).toHaveLength(2);
    // Another tenant has its own share; another provider is not capped.
    expect((await chat(b.apiKey)).status).toBe(200);
    expect((await chat(a.apiKey, { model: 'anthropic/claude-haiku-4.5' })).status).toBe(200);
    const g = await generation(a.apiKey, capped.headers.get('x-request-id')!);
    expect(g.status).toBe(429);
    expect(g.attempts).toEqual([expect.objectContaining({ model: 'openai/gpt-4o-mini', status: 0, error: 'rate_limit_exceeded' })]);
  });

  it('moves a capped request on to its fallback model, and to the tenant\'s own key, which is never capped', async () => {
    const a = await tenant();
    await awayFromMinuteEdge();
    for (let i = 0; i < 2; i++) expect((await chat(a.apiKey)).status).toBe(200);
    t.anthropic.enqueue({ text: 'fallback served' });
    const fell = await chat(a.apiKey, { models: ['anthropic/claude-haiku-4.5'] });
    expect(fell.status).toBe(200);
    expect(fell.headers.get('x-gateway-provider')).toBe('anthropic');
    const body = (await fell.json()) as { id: string; choices: { message: { content: string } }[] };
    expect(body.choices[0].message.content).toBe('fallback served');
    expect((await generation(a.apiKey, body.id)).attempts.map((x) => [x.model, x.status, x.error ?? null])).toEqual([
      ['openai/gpt-4o-mini', 0, 'rate_limit_exceeded'],
      ['anthropic/claude-haiku-4.5', 200, null],
    ]);

    const pk = await call(t.url, 'POST', '/api/provider-keys', { token: a.token, body: { provider: 'openai', api_key: OWN_OPENAI, base_url: `${own.baseUrl}/v1`, priority: 'fallback' } });
    expect(pk.status).toBe(201);
    await waitForTenantRefresh();
    for (let i = 0; i < 3; i++) {
      const r = await chat(a.apiKey);
      expect(r.status).toBe(200);
      const g = await generation(a.apiKey, ((await r.json()) as { id: string }).id);
      expect(g.attempts.at(-1)).toMatchObject({ status: 200, byok: true });
    }
    expect(own.requests).toHaveLength(3);
  });

  it('caps requests in flight by operator override, frees the slot when a stream ends, and resets to the default', async () => {
    const a = await tenant();
    const path = `/api/admin/tenants/${a.tenantId}/platform-caps`;
    expect((await call(t.url, 'GET', path, { token: ADMIN_TOKEN })).body).toEqual({ caps: { openai: { rpm: 2 } }, source: 'platform' });
    const bad = await call(t.url, 'PUT', path, { token: ADMIN_TOKEN, body: { caps: { openai: { concurrency: 0 } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('caps.openai.concurrency');
    expect((await call(t.url, 'PUT', path, { token: ADMIN_TOKEN, body: { caps: { nope: { rpm: 1 } } } })).body.error.param).toBe('caps.nope');
    expect((await call(t.url, 'PUT', path, { token: a.token, body: { caps: {} } })).status).toBe(403);
    const put = await call(t.url, 'PUT', path, { token: ADMIN_TOKEN, body: { caps: { '*': { concurrency: 1 } } } });
    expect(put.body).toEqual({ caps: { '*': { concurrency: 1 } }, source: 'tenant' });
    await waitForTenantRefresh();

    t.openai.enqueue({ deltas: 4, chunkDelayMs: 300 });
    const streaming = await chat(a.apiKey, { stream: true });
    expect(streaming.status).toBe(200);
    // The stream holds the one slot: a second request meanwhile is refused, with no upstream call.
    const second = await chat(a.apiKey);
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { message: string } }).error.message).toContain('1 requests at once');
    expect(t.openai.requests).toHaveLength(1);
    await streaming.text();
    await waitFor(async () => (await chat(a.apiKey)).status === 200);
    // rpm no longer applies (the override replaced the default): many in a row pass.
    for (let i = 0; i < 3; i++) expect((await chat(a.apiKey)).status).toBe(200);

    expect((await call(t.url, 'DELETE', path, { token: ADMIN_TOKEN })).body).toEqual({ caps: { openai: { rpm: 2 } }, source: 'platform' });
    expect((await call(t.url, 'GET', path, { token: ADMIN_TOKEN })).body.source).toBe('platform');
    expect((await call(t.url, 'GET', `/api/admin/tenants/nope/platform-caps`, { token: ADMIN_TOKEN })).status).toBe(404);
  });
});

/** rpm counts in fixed one-minute windows: start a counted sequence with at least 10 s of its window left. */
async function awayFromMinuteEdge(): Promise<void> {
  const intoWindow = Date.now() % 60_000;
  if (intoWindow > 50_000) await new Promise((r) => setTimeout(r, 60_000 - intoWindow + 50));
}

/** Admin changes reach the gateway's tenant cache through the invalidation channel, asynchronously. */
const waitForTenantRefresh = () => new Promise((r) => setTimeout(r, 300));

async function waitFor(ok: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
