import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StoredUrlAudit } from '@gw/admin';
import { FakeOpenAiServer } from '@gw/testing';
import { startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';

/**
 * The SSRF suite: BYOK base URLs may not reach private, loopback, link-local or metadata
 * addresses, in any spelling, at write time (400 naming base_url, nothing stored) and at connect
 * time (a stored URL that now points inside, as after DNS rebinding, is refused before any byte is
 * sent); redirects are never followed. `strict` runs with the default policy; `lenient` (the
 * operator's ALLOW_PRIVATE_PROVIDER_URLS=true) shares its database and plants URLs `strict`
 * would refuse.
 */
const KEY = 'sk-tenant-ssrf-test-key-0001';
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
let strict: TestApp;
let lenient: TestApp;
let inside: FakeOpenAiServer;
let redirector: Server;
let redirectorUrl: string;

beforeAll(async () => {
  strict = await startTestApp({}, { billingWorker: false });
  lenient = await startTestApp({ ALLOW_PRIVATE_PROVIDER_URLS: 'true' }, { billingWorker: false });
  inside = new FakeOpenAiServer({ apiKey: KEY });
  await inside.start();
  redirector = createServer((_req, res) => res.writeHead(302, { location: `${inside.baseUrl}/v1/models` }).end());
  await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
  redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await Promise.all([strict?.close(), lenient?.close(), inside?.close(), new Promise<void>((r) => (redirector ? redirector.close(() => r()) : r()))]);
});

const REFUSED = [
  'http://127.0.0.1:11434/v1',
  'http://127.1/v1',
  'http://2130706433/v1',
  'http://0x7f000001/v1',
  'http://0x7f.0.0.1/v1',
  'http://0177.0.0.1/v1',
  'http://017700000001/v1',
  'http://localhost:8080/v1',
  'http://LOCALHOST/v1',
  'http://[::1]/v1',
  'http://[::]/v1',
  'http://0.0.0.0/v1',
  'http://[::ffff:127.0.0.1]/v1',
  'http://[::ffff:7f00:1]/v1',
  'http://[0:0:0:0:0:ffff:a9fe:a9fe]/latest',
  'http://169.254.169.254/latest/meta-data/',
  'http://[fd00:ec2::254]/latest',
  'http://[fe80::1]/v1',
  'http://10.0.0.5/v1',
  'http://172.16.3.4/v1',
  'http://192.168.1.20/v1',
  'http://100.64.0.1/v1',
  'http://198.18.0.1/v1',
  'http://[fc00::1]/v1',
  'http://[64:ff9b::7f00:1]/v1',
  'file:///etc/passwd',
  'gopher://127.0.0.1:6379/_INFO',
  'http://user:pass@api.openai.com/v1',
];

describe('write time', () => {
  it.each(REFUSED)('refuses base_url %s with 400 naming base_url and stores nothing', async (url) => {
    const s = await strict.signup();
    const res = await call(strict.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY, base_url: url } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_body', param: 'base_url' });
    expect(res.body.error.message).not.toContain(KEY);
    expect(await strict.prisma.providerCredential.count({ where: { tenantId: s.tenantId } })).toBe(0);
  });

  it('refuses a private base_url on update too', async () => {
    const s = await strict.signup();
    const pk = (await call(strict.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY } })).body;
    const res = await call(strict.url, 'PATCH', `/api/provider-keys/${pk.id}`, { token: s.token, body: { base_url: 'http://[::ffff:10.0.0.1]/v1' } });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('base_url');
    expect((await strict.prisma.providerCredential.findUniqueOrThrow({ where: { id: pk.id } })).baseUrl).toBeNull();
  });
});

describe('connect time', () => {
  it('refuses to connect to a stored URL that points inside, before any byte is sent', async () => {
    const s = await lenient.signup();
    const planted = await call(lenient.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY, base_url: `${inside.baseUrl}/v1` } });
    expect(planted.status).toBe(201);
    inside.reset();
    // The same row, verified by a process with the default policy: the connector refuses it.
    const v = await call(strict.url, 'POST', `/api/provider-keys/${planted.body.id}/verify`, { token: s.token });
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ verified: false, error: { code: 'blocked_address' } });
    expect(inside.requests).toHaveLength(0);
    // With the operator's permission, the same URL is reachable.
    const allowed = await call(lenient.url, 'POST', `/api/provider-keys/${planted.body.id}/verify`, { token: s.token });
    expect(allowed.body.verified).toBe(true);
  });

  it('refuses a name that resolves to loopback at connect time', async () => {
    const s = await lenient.signup();
    const port = new URL(inside.baseUrl).port;
    const planted = await call(lenient.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY, base_url: `http://localhost:${port}/v1` } });
    inside.reset();
    const v = await call(strict.url, 'POST', `/api/provider-keys/${planted.body.id}/verify`, { token: s.token });
    expect(v.body.error.code).toBe('blocked_address');
    expect(inside.requests).toHaveLength(0);
  });

  it('never follows a redirect, even where private addresses are allowed', async () => {
    const s = await lenient.signup();
    const planted = await call(lenient.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY, base_url: `${redirectorUrl}/v1` } });
    inside.reset();
    const v = await call(lenient.url, 'POST', `/api/provider-keys/${planted.body.id}/verify`, { token: s.token });
    expect(v.body).toMatchObject({ verified: false, error: { code: 'redirect' } });
    expect(inside.requests).toHaveLength(0);
  });

  it('the gateway does not reach a planted private URL either', async () => {
    const s = await lenient.signup();
    expect((await strict.grant(s.tenantId, 5)).status).toBe(201);
    await call(lenient.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY, base_url: `${inside.baseUrl}/v1`, priority: 'first' } });
    inside.reset();
    const res = await fetch(`${strict.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
    });
    await res.arrayBuffer();
    expect(inside.requests).toHaveLength(0);
  });
});

describe('https only and an allowed port list (production defaults, reliability T48)', () => {
  let tight: TestApp;
  beforeAll(async () => {
    // Address checks off so that only the scheme and port rules decide (no DNS here).
    tight = await startTestApp({ PROVIDER_URL_HTTPS_ONLY: 'true', PROVIDER_URL_PORTS: '443', ALLOW_PRIVATE_PROVIDER_URLS: 'true' }, { billingWorker: false });
  });
  afterAll(async () => {
    await tight?.close();
  });

  it.each([
    ['http://127.0.0.1/v1', 'must use https'],
    ['https://127.0.0.1:6379/v1', 'must not use port 6379'],
    ['https://127.0.0.1:8443/v1', 'must not use port 8443'],
  ])('refuses base_url %s (400 naming it, nothing stored)', async (url, message) => {
    const s = await tight.signup();
    const res = await call(tight.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY, base_url: url } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ param: 'base_url' });
    expect(res.body.error.message).toContain(message);
    expect(await tight.prisma.providerCredential.count({ where: { tenantId: s.tenantId } })).toBe(0);
  });

  it('takes https on 443, and holds a changed base_url and alert webhooks to the same rules', async () => {
    const s = await tight.signup();
    const ok = await call(tight.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY, base_url: 'https://127.0.0.1/v1' } });
    expect(ok.status).toBe(201);
    const patched = await call(tight.url, 'PATCH', `/api/provider-keys/${ok.body.id}`, { token: s.token, body: { base_url: 'http://127.0.0.1/v1' } });
    expect(patched.status).toBe(400);
    expect(patched.body.error).toMatchObject({ param: 'base_url' });
    const hook = await call(tight.url, 'POST', '/api/alerts', { token: s.token, body: { kind: 'balance_below', threshold: 1, webhook_url: 'http://127.0.0.1/hook' } });
    expect(hook.status).toBe(400);
    expect(hook.body.error).toMatchObject({ param: 'webhook_url' });
  });

  it('keeps a URL stored before the rule, and lets it be saved again unchanged', async () => {
    const s = await tight.signup();
    const ok = await call(tight.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY, base_url: 'https://127.0.0.1/v1' } });
    // As if stored by an earlier version, or before the operator tightened the rule.
    await tight.prisma.providerCredential.update({ where: { id: ok.body.id }, data: { baseUrl: 'http://127.0.0.1:8000/v1' } });
    const same = await call(tight.url, 'PATCH', `/api/provider-keys/${ok.body.id}`, { token: s.token, body: { base_url: 'http://127.0.0.1:8000/v1/', label: 'renamed' } });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ base_url: 'http://127.0.0.1:8000/v1', label: 'renamed' });
  });

  it('lists, by id, the stored URLs that break the rule (what start-up logs), never the URLs themselves', async () => {
    const s = await tight.signup();
    const ok = await call(tight.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: KEY, base_url: 'https://127.0.0.1/v1' } });
    const fine = await call(tight.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'anthropic', api_key: KEY, base_url: 'https://127.0.0.1/' } });
    const hook = await call(tight.url, 'POST', '/api/alerts', { token: s.token, body: { kind: 'balance_below', threshold: 1, webhook_url: 'https://127.0.0.1/hook' } });
    expect([ok.status, fine.status, hook.status]).toEqual([201, 201, 201]);
    await tight.prisma.providerCredential.update({ where: { id: ok.body.id }, data: { baseUrl: 'http://127.0.0.1:8000/v1?token=abc' } });
    await tight.prisma.alertRule.update({ where: { id: hook.body.id }, data: { webhookUrl: 'https://127.0.0.1:8443/hook' } });
    const found = (await tight.app.get(StoredUrlAudit).audit()).filter((f) => f.tenantId === s.tenantId);
    expect(found).toEqual([
      { kind: 'provider_key', id: ok.body.id, tenantId: s.tenantId, problem: 'must use https (PROVIDER_URL_HTTPS_ONLY)' },
      { kind: 'alert_webhook', id: hook.body.id, tenantId: s.tenantId, problem: 'must not use port 8443: allowed 443 (PROVIDER_URL_PORTS)' },
    ]);
    expect(JSON.stringify(found)).not.toContain('token=abc');
  });
});
