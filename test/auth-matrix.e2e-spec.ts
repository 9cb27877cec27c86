import { request } from 'node:http';
import { Clock, generateApiKey } from '@gw/core';
import { ADMIN_TOKEN, fundedTenant, startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';

/**
 * Who may call what (reliability T01, T07): every bad key gets the same 401 body, which never
 * echoes the key, and no provider call, hold or charge; admin credentials are not inference keys,
 * and inference keys are not admin credentials.
 */
jest.setTimeout(60_000);
let t: TestApp;
let tenant: Awaited<ReturnType<typeof fundedTenant>>;

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
  tenant = await fundedTenant(t, 1);
});
afterAll(async () => {
  await t?.close();
});

const BODY = JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

/** POST /v1/chat/completions with exactly these raw headers (repeats included). */
function rawChat(headers: [string, string][]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(t.url);
    // A repeated header is given as an array of values: one header line each.
    const grouped: Record<string, string[]> = { 'content-type': ['application/json'], 'content-length': [String(Buffer.byteLength(BODY))] };
    for (const [name, value] of headers) (grouped[name] ??= []).push(value);
    const req = request({ host: url.hostname, port: url.port, path: '/v1/chat/completions', method: 'POST', headers: grouped });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

async function keyWith(body: object): Promise<{ id: string; key: string }> {
  const r = await call(t.url, 'POST', '/api/keys', { token: tenant.token, body: { name: 'matrix', ...body } });
  expect(r.status).toBe(201);
  return r.body as { id: string; key: string };
}

describe('bad keys on /v1 (T01)', () => {
  it('all get the same 401 body, never echoing the key; nothing is called, held or charged', async () => {
    const revoked = await keyWith({});
    expect((await call(t.url, 'DELETE', `/api/keys/${revoked.id}`, { token: tenant.token })).status).toBe(200);
    const expiring = await keyWith({ expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    // Used once while valid, so the gateway's key cache holds it when it expires ...
    t.openai.enqueue({ text: 'ok' });
    expect((await rawChat([['authorization', `Bearer ${expiring.key}`]])).status).toBe(200);
    // ... two hours later, by the gateway's clock.
    const clock = t.app.get(Clock);
    const realNow = clock.now.bind(clock);
    jest.spyOn(clock, 'now').mockImplementation(() => realNow() + 7_200_000);
    t.openai.reset().setDefaults({});
    const before = await t.credits.getCredits(tenant.tenantId);

    const cases: [string, [string, string][], string | undefined][] = [
      ['no Authorization', [], undefined],
      ['a garbage bearer', [['authorization', 'Bearer garbage']], 'garbage'],
      ['Basic credentials', [['authorization', `Basic ${Buffer.from(`user:${tenant.apiKey}`).toString('base64')}`]], undefined],
      ['a well-formed unknown key', [['authorization', `Bearer ${generateApiKey()}`]], undefined],
      ['a revoked key', [['authorization', `Bearer ${revoked.key}`]], revoked.key],
      ['an expired key', [['authorization', `Bearer ${expiring.key}`]], expiring.key],
      ['two Authorization headers (a valid one first)', [['authorization', `Bearer ${tenant.apiKey}`], ['authorization', 'Bearer garbage']], tenant.apiKey],
      ['two x-api-key headers', [['x-api-key', tenant.apiKey], ['x-api-key', tenant.apiKey]], tenant.apiKey],
    ];
    const bodies = new Set<string>();
    for (const [what, headers, secret] of cases) {
      const r = await rawChat(headers);
      expect([what, r.status]).toEqual([what, 401]);
      const body = JSON.parse(r.text) as { error: { code: string; type: string } };
      expect(body.error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error' });
      if (secret) expect([what, r.text.includes(secret)]).toEqual([what, false]);
      bodies.add(r.text);
    }
    expect([...bodies]).toHaveLength(1);
    expect(t.openai.requests).toHaveLength(0);
    expect(await t.credits.getCredits(tenant.tenantId)).toEqual(before);
    jest.restoreAllMocks();
  });

  it("still takes one x-api-key beside one Authorization header (the Anthropic SDK's way)", async () => {
    t.anthropic.enqueue({ text: 'both headers' });
    const r = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': tenant.apiKey, authorization: `Bearer ${tenant.apiKey}`, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'anthropic/claude-haiku-4.5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(r.status).toBe(200);
  });

  it('the dashboard API refuses two Authorization headers too (401), even with a valid token first', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const url = new URL(t.url);
      const req = request({ host: url.hostname, port: url.port, path: '/api/keys', method: 'GET', headers: { authorization: [`Bearer ${tenant.token}`, 'Bearer garbage'] } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(r).toBe(401);
    expect((await call(t.url, 'GET', '/api/keys', { token: tenant.token })).status).toBe(200);
  });
});

describe('the dashboard API reads credentials from the Authorization header only', () => {
  it('refuses (401) an operator token, a JWT or a management key in ?access_token= or a body access_token; the header works', async () => {
    const mgmt = await keyWith({ kind: 'management' });
    const cases: [string, string, string][] = [
      ['ADMIN_TOKEN', ADMIN_TOKEN, '/api/admin/tenants'],
      ['a JWT', tenant.token, '/api/keys'],
      ['a management key', mgmt.key, '/api/keys'],
    ];
    for (const [what, token, path] of cases) {
      const inQuery = await call(t.url, 'GET', `${path}?access_token=${encodeURIComponent(token)}`);
      expect([what, 'query', inQuery.status]).toEqual([what, 'query', 401]);
      expect(inQuery.body.error).toMatchObject({ type: 'invalid_request_error', code: 'unauthorized' });
      const inBody = await call(t.url, 'POST', '/api/keys', { body: { name: 'smuggled', access_token: token } });
      expect([what, 'body', inBody.status]).toEqual([what, 'body', 401]);
      expect((await call(t.url, 'GET', path, { token })).status).toBe(200);
    }
    expect(await t.prisma.apiKey.count({ where: { name: 'smuggled' } })).toBe(0);
  });
});

describe('credentials stay on their side (T07)', () => {
  it('admin and dashboard credentials are not inference keys (401 on /v1)', async () => {
    for (const token of [ADMIN_TOKEN, tenant.token]) {
      const r = await rawChat([['authorization', `Bearer ${token}`]]);
      expect(r.status).toBe(401);
      expect(r.text).not.toContain(token);
    }
    expect(t.openai.requests).toHaveLength(0);
  });

  it('an inference key is refused on the operator and dashboard routes', async () => {
    const adjustments = await t.prisma.ledgerEntry.count({ where: { tenantId: tenant.tenantId, kind: 'adjustment' } });
    for (const [method, path, body] of [
      ['POST', `/api/admin/tenants/${tenant.tenantId}/credits`, { amount: 100, reason: 'self-service' }],
      ['GET', '/api/admin/tenants', undefined],
      ['POST', '/api/models', { id: 'openai/x', upstream_id: 'x', context_length: 10, max_output_tokens: 5, pricing: { input: '0', output: '0' } }],
      ['GET', '/api/keys', undefined],
    ] as const) {
      const r = await call(t.url, method, path, { token: tenant.apiKey, body });
      expect([path, r.status]).toEqual([path, 403]);
    }
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId: tenant.tenantId, kind: 'adjustment' } })).toBe(adjustments);
  });
});
