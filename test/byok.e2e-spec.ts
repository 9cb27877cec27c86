import { FakeAnthropicServer, FakeOpenAiServer } from '@gw/testing';
import { startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';

/**
 * BYOK provider keys: sealed at rest (no plaintext in the database), shown as last4 only, checked
 * with a cheap call that reaches the tenant's provider with the tenant's key, never leaked in an
 * error, and used by the gateway before the platform's capacity when `priority` is `first`.
 * Private URLs are allowed here (the fakes listen on 127.0.0.1); byok-ssrf covers the refusals.
 */
const OWN_OPENAI = 'sk-tenant-own-openai-key-7777';
const OWN_ANTHROPIC = 'sk-ant-tenant-own-key-8888';
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
let t: TestApp;
let ownOpenAi: FakeOpenAiServer;
let ownAnthropic: FakeAnthropicServer;

beforeAll(async () => {
  t = await startTestApp({ ALLOW_PRIVATE_PROVIDER_URLS: 'true' }, { billingWorker: false });
  ownOpenAi = new FakeOpenAiServer({ apiKey: OWN_OPENAI });
  ownAnthropic = new FakeAnthropicServer({ apiKey: OWN_ANTHROPIC });
  await Promise.all([ownOpenAi.start(), ownAnthropic.start()]);
});
afterAll(async () => {
  await Promise.all([t?.close(), ownOpenAi?.close(), ownAnthropic?.close()]);
});

const rowText = (row: object) =>
  JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));

describe('BYOK provider keys', () => {
  it('stores the secret sealed and answers with last4 only', async () => {
    const s = await t.signup();
    const res = await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: OWN_OPENAI, base_url: `${ownOpenAi.baseUrl}/v1/`, label: 'own', priority: 'first' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ provider: 'openai', label: 'own', last4: '7777', priority: 'first', base_url: `${ownOpenAi.baseUrl}/v1`, verified_at: null });
    for (const r of [res, await call(t.url, 'GET', `/api/provider-keys/${res.body.id}`, { token: s.token }), await call(t.url, 'GET', '/api/provider-keys', { token: s.token })]) {
      expect(JSON.stringify(r.body)).not.toContain(OWN_OPENAI);
      expect(JSON.stringify(r.body)).not.toMatch(/api_key|ciphertext/);
    }
    const row = await t.prisma.providerCredential.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(rowText(row)).not.toContain(OWN_OPENAI);
    expect(rowText(row)).not.toContain(OWN_OPENAI.slice(3, 20));
    expect(row.iv).toHaveLength(12);
    expect(row.authTag).toHaveLength(16);
    expect(row.last4).toBe('7777');
  });

  it('verify reaches the provider with the tenant key (GET /models for the OpenAI format)', async () => {
    const s = await t.signup();
    const pk = (await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: OWN_OPENAI, base_url: `${ownOpenAi.baseUrl}/v1` } })).body;
    ownOpenAi.reset();
    const v = await call(t.url, 'POST', `/api/provider-keys/${pk.id}/verify`, { token: s.token });
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ id: pk.id, verified: true, error: null });
    expect(ownOpenAi.lastRequest()).toMatchObject({ method: 'GET', path: '/v1/models' });
    expect(ownOpenAi.lastRequest()!.headers.authorization).toBe(`Bearer ${OWN_OPENAI}`);
    expect((await call(t.url, 'GET', `/api/provider-keys/${pk.id}`, { token: s.token })).body.verified_at).toBe(v.body.verified_at);
  });

  it('verify with a one-token request where the format has no free check (Anthropic)', async () => {
    const s = await t.signup();
    const pk = (await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'anthropic', api_key: OWN_ANTHROPIC, base_url: ownAnthropic.baseUrl } })).body;
    const v = await call(t.url, 'POST', `/api/provider-keys/${pk.id}/verify`, { token: s.token });
    expect(v.body).toMatchObject({ verified: true, error: null });
    const sent = ownAnthropic.lastRequest()!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(OWN_ANTHROPIC);
    expect((sent.body as { max_tokens: number }).max_tokens).toBe(1);
  });

  it('a refused key is reported without echoing anything of it', async () => {
    const s = await t.signup();
    const wrong = 'sk-tenant-wrong-key-1234567890';
    const pk = (await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: wrong, base_url: `${ownOpenAi.baseUrl}/v1` } })).body;
    ownOpenAi.enqueue({ status: 401, errorMessage: `Incorrect API key provided: ${wrong}` });
    const v = await call(t.url, 'POST', `/api/provider-keys/${pk.id}/verify`, { token: s.token });
    expect(v.body).toMatchObject({ verified: false, verified_at: null, error: { code: 'invalid_key', status: 401 } });
    expect(JSON.stringify(v.body)).not.toContain(wrong.slice(3, 20));
  });

  it('the gateway sends a request with the tenant key to the tenant base URL when priority is first', async () => {
    const s = await t.signup();
    expect((await t.grant(s.tenantId, 5)).status).toBe(201);
    await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: OWN_OPENAI, base_url: `${ownOpenAi.baseUrl}/v1`, priority: 'first' } });
    ownOpenAi.reset();
    t.openai.reset();
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 5 }),
    });
    expect(res.status).toBe(200);
    expect(ownOpenAi.lastRequest()?.headers.authorization).toBe(`Bearer ${OWN_OPENAI}`);
    expect(t.openai.requests).toHaveLength(0);
  });

  it("a key without a base_url goes where the platform calls the provider (OPENAI_BASE_URL here), not to the provider's public address", async () => {
    const s = await t.signup();
    expect((await t.grant(s.tenantId, 5)).status).toBe(201);
    await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: OWN_OPENAI, priority: 'first' } });
    t.openai.reset();
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 5 }),
    });
    // The platform's fake takes only the platform's key: the tenant's is refused there, and said so.
    expect(t.openai.requests).toHaveLength(1);
    expect(t.openai.lastRequest()!.headers.authorization).toBe(`Bearer ${OWN_OPENAI}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_auth_error');
  });

  it("a key's credit limit counts BYOK fees only with include_byok_in_limit, at reservation as at settle", async () => {
    const s = await t.signup();
    expect((await t.grant(s.tenantId, 5)).status).toBe(201);
    // 100 micros: under any platform hold for 16,000 output tokens, and under this BYOK fee's hold
    // (5% of the list price's worst case, about 480 micros).
    const key = (await call(t.url, 'POST', '/api/keys', { token: s.token, body: { name: 'limited', credit_limit: 0.0001, limit_reset: 'daily' } })).body;
    const ask = () =>
      fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 16_000 }),
      });
    const platform = await ask();
    expect(platform.status).toBe(402);
    expect(((await platform.json()) as { error: { message: string } }).error.message).toMatch(/limit/i);
    await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: OWN_OPENAI, base_url: `${ownOpenAi.baseUrl}/v1`, priority: 'first' } });
    ownOpenAi.reset();
    const own = await ask();
    expect(own.status).toBe(200);
    expect(ownOpenAi.requests).toHaveLength(1);
    expect((await call(t.url, 'PATCH', `/api/keys/${key.id}`, { token: s.token, body: { include_byok_in_limit: true } })).status).toBe(200);
    await waitForStatus(ask, 402);
  });

  it("the platform's key never reaches a tenant's URL, even when the tenant's key is refused and the platform stands in (T52)", async () => {
    const s = await t.signup();
    expect((await t.grant(s.tenantId, 5)).status).toBe(201);
    await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: OWN_OPENAI, base_url: `${ownOpenAi.baseUrl}/v1`, priority: 'first' } });
    expect((await call(t.url, 'PUT', '/api/routing', { token: s.token, body: { byok_fallback_to_platform: true } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    ownOpenAi.reset();
    t.openai.reset();
    // The tenant's key is refused at its URL; the platform serves, on its own URL.
    ownOpenAi.enqueue({ status: 401 }, { status: 401 }, { status: 401 });
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 5 }),
    });
    expect(res.status).toBe(200);
    expect(ownOpenAi.requests.length).toBeGreaterThanOrEqual(1);
    expect(ownOpenAi.requests.every((r) => r.headers.authorization === `Bearer ${OWN_OPENAI}`)).toBe(true);
    expect(JSON.stringify(ownOpenAi.requests.map((r) => r.headers))).not.toContain('sk-platform');
    expect(t.openai.lastRequest()?.headers.authorization).toBe('Bearer sk-platform-openai');
  });

  it("a key the gateway cannot open is reported, never silently replaced by the platform's key (T44)", async () => {
    const s = await t.signup();
    expect((await t.grant(s.tenantId, 5)).status).toBe(201);
    const pk = (await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: OWN_OPENAI, base_url: `${ownOpenAi.baseUrl}/v1`, priority: 'first' } })).body;
    // One flipped bit of the stored ciphertext: the AEAD tag no longer matches.
    const row = await t.prisma.providerCredential.findUniqueOrThrow({ where: { id: pk.id } });
    const tampered = Buffer.from(row.ciphertext);
    tampered[0] ^= 1;
    await t.prisma.providerCredential.update({ where: { id: pk.id }, data: { ciphertext: tampered } });
    ownOpenAi.reset();
    t.openai.reset();
    const before = (await t.credits.getCredits(s.tenantId))!.balance;
    const chat = () =>
      fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 5 }),
      });
    const res = await chat();
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'service_unavailable', message: expect.stringContaining(pk.id) });
    expect(ownOpenAi.requests).toHaveLength(0);
    expect(t.openai.requests).toHaveLength(0);
    expect((await t.credits.getCredits(s.tenantId))!.balance).toBe(before);

    // The tenant may let the platform stand in: then served there, at the platform's price.
    expect((await call(t.url, 'PUT', '/api/routing', { token: s.token, body: { byok_fallback_to_platform: true } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect((await chat()).status).toBe(200);
    expect(t.openai.requests).toHaveLength(1);
    expect((await t.credits.getCredits(s.tenantId))!.balance).toBeLessThan(before);
  });

  it('moves a stored key to another base_url only with the key in the same request, and forgets its verification', async () => {
    const s = await t.signup();
    const pk = (await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: OWN_OPENAI, base_url: `${ownOpenAi.baseUrl}/v1` } })).body;
    expect((await call(t.url, 'POST', `/api/provider-keys/${pk.id}/verify`, { token: s.token })).body.verified).toBe(true);
    // Someone who may edit provider keys points the stored key at a server of theirs.
    const attacker = new FakeOpenAiServer({ apiKey: 'sk-attacker-own-key-0000' });
    await attacker.start();
    try {
      for (const base_url of [`${attacker.baseUrl}/v1`, null]) {
        const moved = await call(t.url, 'PATCH', `/api/provider-keys/${pk.id}`, { token: s.token, body: { base_url } });
        expect([base_url, moved.status]).toEqual([base_url, 400]);
        expect(moved.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body', param: 'api_key' });
      }
      const kept = (await call(t.url, 'GET', `/api/provider-keys/${pk.id}`, { token: s.token })).body;
      expect(kept).toMatchObject({ base_url: `${ownOpenAi.baseUrl}/v1`, last4: '7777', verified_at: expect.any(String) });
      expect((await call(t.url, 'POST', `/api/provider-keys/${pk.id}/verify`, { token: s.token })).status).toBe(200);
      expect(attacker.requests).toHaveLength(0);

      // The same URL sent back with a label is no move.
      expect((await call(t.url, 'PATCH', `/api/provider-keys/${pk.id}`, { token: s.token, body: { base_url: `${ownOpenAi.baseUrl}/v1/`, label: 'same' } })).body).toMatchObject({ label: 'same', verified_at: expect.any(String) });

      // With its own key, the move is the tenant's: the new key is stored, the old verification dropped.
      const moved = await call(t.url, 'PATCH', `/api/provider-keys/${pk.id}`, { token: s.token, body: { base_url: `${attacker.baseUrl}/v1`, api_key: 'sk-attacker-own-key-0000' } });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ base_url: `${attacker.baseUrl}/v1`, last4: '0000', verified_at: null });
      const v = await call(t.url, 'POST', `/api/provider-keys/${pk.id}/verify`, { token: s.token });
      expect(v.body).toMatchObject({ verified: true });
      expect(attacker.lastRequest()?.headers.authorization).toBe('Bearer sk-attacker-own-key-0000');
      expect(JSON.stringify(attacker.requests)).not.toContain(OWN_OPENAI);
    } finally {
      await attacker.close();
    }
  });

  it('changes priority and deletes; another tenant never sees them', async () => {
    const s = await t.signup();
    const other = await t.signup();
    const pk = (await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: OWN_OPENAI } })).body;
    expect(pk.base_url).toBeNull();
    expect((await call(t.url, 'PATCH', `/api/provider-keys/${pk.id}`, { token: s.token, body: { priority: 'fallback', label: 'backup' } })).body).toMatchObject({ priority: 'fallback', label: 'backup' });
    expect((await call(t.url, 'GET', '/api/provider-keys', { token: other.token })).body.data).toEqual([]);
    expect((await call(t.url, 'DELETE', `/api/provider-keys/${pk.id}`, { token: other.token })).status).toBe(404);
    expect((await call(t.url, 'DELETE', `/api/provider-keys/${pk.id}`, { token: s.token })).body).toEqual({ id: pk.id, deleted: true });
    expect(await t.prisma.providerCredential.count({ where: { id: pk.id } })).toBe(0);
    const unknown = await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'mars', api_key: OWN_OPENAI } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('provider');
  });
});

/** Asks until the answer has `status` (a key's settings reach the gateway through its cache's invalidation). */
async function waitForStatus(ask: () => Promise<Response>, status: number): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const res = await ask();
    await res.arrayBuffer();
    if (res.status === status) return;
    if (Date.now() > until) throw new Error(`still ${res.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
