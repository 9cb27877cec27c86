import { startTestApp, type TestApp } from './support/test-app';
import { adminRoutes, call } from './support/admin-api';

/** API keys through the admin API and their effect on the gateway; management keys; routing; docs. */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  t.openai.reset();
});

const chat = (key: string) =>
  fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
  });

async function funded() {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, 5)).status).toBe(201);
  return s;
}

describe('API keys', () => {
  it('creates with settings, shows the secret once, stores only a hash and a prefix', async () => {
    const s = await funded();
    const body = { name: 'backend', allowed_models: ['openai/*'], rpm_limit: 60, tpm_limit: 100000, credit_limit: 2.5, limit_reset: 'daily', include_byok_in_limit: true, expires_at: new Date(Date.now() + 86_400_000).toISOString() };
    const created = await call(t.url, 'POST', '/api/keys', { token: s.token, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...body, kind: 'inference', status: 'active', grace_until: null });
    expect(created.body.key).toMatch(/^sk-gw-/);
    expect(created.body.key.startsWith(created.body.prefix)).toBe(true);
    const row = await t.prisma.apiKey.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(created.body.key.slice(12));
    expect(row.creditLimitMicros).toBe(2_500_000n);

    const got = await call(t.url, 'GET', `/api/keys/${created.body.id}`, { token: s.token });
    const listed = await call(t.url, 'GET', '/api/keys', { token: s.token });
    for (const r of [got, listed]) {
      expect(JSON.stringify(r.body)).not.toContain(created.body.key);
      expect(JSON.stringify(r.body)).not.toMatch(/"hash"|"key"/);
    }
    expect(await t.credits.getKeyStatus(s.tenantId, created.body.id)).toBe('active');
    expect((await chat(created.body.key)).status).toBe(200);
    const forbidden = await chat((await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'only anthropic', allowed_models: ['anthropic/*'] } })).body.key);
    expect(forbidden.status).toBe(403);
  });

  it('counts tpm in tokens like OpenAI (the prompt once, about 4 bytes a token, plus max_tokens), not in prompt bytes', async () => {
    const s = await funded();
    const key = (await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'tpm', tpm_limit: 10_000 } })).body.key as string;
    // About 5,000 tokens of prompt (20,000 bytes) and 1,000 of output: under 10,000.
    const ask = () =>
      fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'word '.repeat(4_000) }], max_tokens: 1_000 }),
      });
    expect((await ask()).status).toBe(200);
    // The second in the same minute goes past 10,000: refused with a wait, not as too large.
    const second = await ask();
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it("counts a key's spend in its period before it has a credit limit: a limit set later sees it", async () => {
    const s = await funded();
    const k = (await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'later', limit_reset: 'monthly' } })).body;
    t.openai.enqueue({ promptTokens: 1000, completionTokens: 1000 });
    expect((await chat(k.key)).status).toBe(200);
    // The key has spent 153 micros this month (1,000 tokens in, 5 out): a limit of 100 is used up.
    expect((await call(t.url, 'PATCH', `/api/keys/${k.id}`, { token: s.token, body: { credit_limit: 0.0001 } })).status).toBe(200);
    // Gateways pick the change up within moments (the key cache is evicted over Redis): /v1/key,
    // read through the same cache, shows when, and what the limit counts.
    const keyView = async () => ((await (await fetch(`${t.url}/v1/key`, { headers: { authorization: `Bearer ${k.key}` } })).json()) as { data: Record<string, unknown> }).data;
    let view = await keyView();
    for (let i = 0; i < 100 && view.limit !== 0.0001; i++) {
      await new Promise((r) => setTimeout(r, 50));
      view = await keyView();
    }
    expect(view).toMatchObject({ limit: 0.0001, period_usage: 0.000153, limit_remaining: 0 });
    const refused = await chat(k.key);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('request_exceeds_budget');
  });

  it('pages the list with limit and cursor, newest first, with a status filter', async () => {
    const s = await t.signup();
    for (const name of ['k1', 'k2', 'k3']) await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name } });
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ name: string }>; next_cursor: string | null } } = await call(t.url, 'GET', `/api/keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: s.token });
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      names.push(...page.body.data.map((k) => k.name));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(names).toEqual(['k3', 'k2', 'k1', 'default']);
    const keyId = (await call(t.url, 'GET', '/api/keys?limit=1', { token: s.token })).body.data[0].id;
    await call(t.url, 'DELETE', `/api/keys/${keyId}`, { token: s.token });
    expect((await call(t.url, 'GET', '/api/keys?status=revoked', { token: s.token })).body.data.map((k: { id: string }) => k.id)).toEqual([keyId]);
  });

  it('updates settings (null clears a limit) and refuses a past expiry', async () => {
    const s = await t.signup();
    const k = (await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'a', rpm_limit: 5 } })).body;
    const patched = await call(t.url, 'PATCH', `/api/keys/${k.id}`, { token: s.token, body: { name: 'b', rpm_limit: null, credit_limit: 1 } });
    expect(patched.body).toMatchObject({ name: 'b', rpm_limit: null, credit_limit: 1 });
    const past = await call(t.url, 'PATCH', `/api/keys/${k.id}`, { token: s.token, body: { expires_at: '2001-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    expect(past.body.error.param).toBe('expires_at');
  });

  it('rotates: the new key works at once, the old one for the grace period only', async () => {
    const s = await funded();
    const old = (await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'svc', rpm_limit: 100 } })).body;
    expect((await chat(old.key)).status).toBe(200);
    const r = await call(t.url, 'POST', `/api/keys/${old.id}/rotate`, { token: s.token, body: { grace_period_seconds: 3600 } });
    expect(r.status).toBe(200);
    expect(r.body.key).toMatchObject({ name: 'svc', rpm_limit: 100, status: 'active' });
    expect(r.body.key.key).not.toBe(old.key);
    expect(r.body.rotated).toMatchObject({ id: old.id, status: 'rotated' });
    expect(Date.parse(r.body.rotated.grace_until) - Date.now()).toBeGreaterThan(3_590_000);
    expect((await chat(r.body.key.key)).status).toBe(200);
    expect((await chat(old.key)).status).toBe(200);
    expect((await call(t.url, 'POST', `/api/keys/${old.id}/rotate`, { token: s.token, body: {} })).status).toBe(409);

    // Without a grace period the old key stops at once, on the gateway and in Redis.
    const next = r.body.key;
    const r2 = await call(t.url, 'POST', `/api/keys/${next.id}/rotate`, { token: s.token, body: { grace_period_seconds: 0 } });
    expect(r2.status).toBe(200);
    expect((await chat(next.key)).status).toBe(401);
    expect(await t.credits.getKeyStatus(s.tenantId, next.id)).toBe('rotated');
    expect((await chat(r2.body.key.key)).status).toBe(200);
  });

  it('refuses (409 conflict) to rotate an expired key, whose successor would be born expired; rotates once expires_at is extended', async () => {
    const s = await t.signup();
    const k = (await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'lapsed', expires_at: new Date(Date.now() + 3_600_000).toISOString() } })).body;
    // An hour later, by the database: the key has expired.
    await t.prisma.apiKey.update({ where: { id: k.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const keys = await t.prisma.apiKey.count({ where: { tenantId: s.tenantId } });
    const r = await call(t.url, 'POST', `/api/keys/${k.id}/rotate`, { token: s.token, body: {} });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ type: 'invalid_request_error', code: 'conflict', param: 'expires_at' });
    expect(await t.prisma.apiKey.count({ where: { tenantId: s.tenantId } })).toBe(keys);
    expect((await call(t.url, 'GET', `/api/keys/${k.id}`, { token: s.token })).body.status).toBe('active');

    const later = new Date(Date.now() + 86_400_000).toISOString();
    expect((await call(t.url, 'PATCH', `/api/keys/${k.id}`, { token: s.token, body: { expires_at: later } })).status).toBe(200);
    const rotated = await call(t.url, 'POST', `/api/keys/${k.id}/rotate`, { token: s.token, body: {} });
    expect(rotated.status).toBe(200);
    expect(rotated.body.key.expires_at).toBe(later);
  });

  it('revokes: refused at once, Redis says revoked, revoking again is harmless', async () => {
    const s = await funded();
    const k = (await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'doomed' } })).body;
    expect((await chat(k.key)).status).toBe(200);
    const revoked = await call(t.url, 'DELETE', `/api/keys/${k.id}`, { token: s.token });
    expect(revoked.body.status).toBe('revoked');
    expect((await chat(k.key)).status).toBe(401);
    expect(await t.credits.getKeyStatus(s.tenantId, k.id)).toBe('revoked');
    expect((await call(t.url, 'DELETE', `/api/keys/${k.id}`, { token: s.token })).status).toBe(200);
    expect((await call(t.url, 'PATCH', `/api/keys/${k.id}`, { token: s.token, body: { name: 'back' } })).status).toBe(409);
  });
});

describe('management keys', () => {
  it('provision inference keys for their tenant, read keys, and nothing else; never call a model', async () => {
    const s = await funded();
    const m = (await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'provisioner', kind: 'management' } })).body;
    const made = await call(t.url, 'POST', '/api/keys', { token: m.key, body: { name: 'customer-42', credit_limit: 1, limit_reset: 'monthly' } });
    expect(made.status).toBe(201);
    expect((await chat(made.body.key)).status).toBe(200);
    expect((await call(t.url, 'GET', '/api/keys', { token: m.key })).status).toBe(200);
    expect((await call(t.url, 'PATCH', `/api/keys/${made.body.id}`, { token: m.key, body: { rpm_limit: 10 } })).status).toBe(200);
    expect((await call(t.url, 'POST', '/api/keys', { token: m.key, body: { name: 'escalate', kind: 'management' } })).status).toBe(403);
    expect((await call(t.url, 'DELETE', `/api/keys/${m.id}`, { token: m.key })).status).toBe(403);
    for (const [method, path] of [['GET', '/api/members'], ['GET', '/api/routing'], ['GET', '/api/provider-keys'], ['GET', '/api/auth/me'], ['GET', '/api/billing/ledger']]) {
      expect({ path, status: (await call(t.url, method!, path!, { token: m.key })).status }).toEqual({ path, status: 403 });
    }
    expect((await chat(m.key)).status).toBe(403);
    const inference = await call(t.url, 'GET', '/api/keys', { token: s.apiKey });
    expect(inference.status).toBe(403);
    // Revoked, the management key stops working on /api too.
    await call(t.url, 'DELETE', `/api/keys/${m.id}`, { token: s.token });
    expect((await call(t.url, 'GET', '/api/keys', { token: m.key })).status).toBe(401);
  });
});

describe('routing settings', () => {
  it('round-trips a valid document, refuses a bad rule naming the field, and writes nothing then', async () => {
    const s = await t.signup();
    const initial = await call(t.url, 'GET', '/api/routing', { token: s.token });
    expect(initial.body).toEqual({ version: 1, aliases: {}, provider_preferences: {}, unsupported_params: 'reject', data_policy: { excluded_providers: [] }, rules: [], timeouts: {}, byok_fallback_to_platform: false });
    const doc = {
      aliases: { 'my-fast': { strategy: 'weighted', targets: [{ model: 'openai/gpt-4o-mini', weight: 3 }, { model: 'anthropic/claude-haiku-4.5', weight: 1 }] } },
      provider_preferences: { order: ['anthropic', 'openai'], sort: 'price' },
      unsupported_params: 'drop',
      data_policy: { excluded_providers: ['deepseek'] },
      rules: [{ type: 'max_cost', max_usd: 0.25 }],
    };
    const put = await call(t.url, 'PUT', '/api/routing', { token: s.token, body: doc });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ version: 1, timeouts: {}, byok_fallback_to_platform: false, ...doc });
    expect((await call(t.url, 'GET', '/api/routing', { token: s.token })).body).toEqual(put.body);

    const bad = await call(t.url, 'PUT', '/api/routing', { token: s.token, body: { ...doc, aliases: { 'my-fast': { targets: [{ model: 'gpt-4o' }] } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('aliases.my-fast.targets[0].model');
    expect(bad.body.error.message).toContain('aliases.my-fast.targets[0].model');
    const unknownProvider = await call(t.url, 'PUT', '/api/routing', { token: s.token, body: { data_policy: { excluded_providers: ['nope'] } } });
    expect(unknownProvider.body.error.param).toBe('data_policy.excluded_providers[0]');
    expect((await call(t.url, 'GET', '/api/routing', { token: s.token })).body).toEqual(put.body);
  });
});

describe('OpenAPI', () => {
  it('documents every admin route at /api/docs-json', async () => {
    const doc = (await call(t.url, 'GET', '/api/docs-json')).body as { paths: Record<string, Record<string, unknown>>; components: { securitySchemes: unknown } };
    expect(doc.components.securitySchemes).toBeDefined();
    const missing = adminRoutes(t.app)
      .map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{path}') }))
      .filter((r) => !doc.paths[r.path]?.[r.method])
      // A trailing wildcard (/api/models/<provider/model>) is documented as {path}.
      // The Stripe webhook reads the raw body and is not part of the client API.
      .filter((r) => r.path !== '/api/billing/webhook');
    expect(missing).toEqual([]);
  });
});
