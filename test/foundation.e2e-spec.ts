import { Redis } from 'ioredis';
import { RedisKeys } from '@gw/metering';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('operations endpoints', () => {
  it('answers /healthz, /readyz and /metrics', async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await fetch(`${t.url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('process_cpu_user_seconds_total');
  });
});

describe('sign-up and login', () => {
  it('creates a tenant, an owner and a first API key shown once', async () => {
    const email = `owner-${Date.now()}@example.com`;
    const res = await post('/api/auth/signup', { email, password: 'a long password', name: 'Acme' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; tenant: { id: string }; user: { email: string; role: string }; api_key: { key: string; prefix: string } };
    expect(body.token.split('.')).toHaveLength(3);
    expect(body.user).toMatchObject({ email, role: 'owner' });
    expect(body.api_key.key).toMatch(/^sk-gw-[0-9A-Za-z]{49}$/);
    expect(body.api_key.key.startsWith(body.api_key.prefix)).toBe(true);
    const row = await t.prisma.apiKey.findFirstOrThrow({ where: { tenantId: body.tenant.id } });
    expect(row.hash).not.toContain(body.api_key.key);
    expect(JSON.stringify(row)).not.toContain(body.api_key.key.slice(12));
    const user = await t.prisma.user.findFirstOrThrow({ where: { email } });
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    expect(user.isOperator).toBe(false);

    const login = await post('/api/auth/login', { email, password: 'a long password' });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { token: string }).token).toBeTruthy();
    const wrong = await post('/api/auth/login', { email, password: 'wrong password' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'unauthorized' } });
  });

  it('refuses a duplicate email with 409 and bad input with 400 naming the field', async () => {
    const email = `dup-${Date.now()}@example.com`;
    expect((await post('/api/auth/signup', { email, password: 'a long password' })).status).toBe(201);
    const dup = await post('/api/auth/signup', { email, password: 'a long password' });
    expect(dup.status).toBe(409);
    const bad = await post('/api/auth/signup', { email: 'not-an-email', password: 'a long password' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_body', param: 'email' } });
    const extra = await post('/api/auth/signup', { email: `x${Date.now()}@example.com`, password: 'a long password', role: 'operator' });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: { message: string } }).error.message).toContain('role');
  });

  it('changes a password with the current one', async () => {
    const email = `pw-${Date.now()}@example.com`;
    const { token } = (await (await post('/api/auth/signup', { email, password: 'first password' })).json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    expect((await post('/api/auth/password', { current_password: 'nope nope', new_password: 'second password' }, auth)).status).toBe(401);
    expect((await post('/api/auth/password', { current_password: 'first password', new_password: 'second password' }, auth)).status).toBe(200);
    expect((await post('/api/auth/login', { email, password: 'second password' })).status).toBe(200);
    expect((await post('/api/auth/password', { current_password: 'x', new_password: 'second password' })).status).toBe(401);
  });
});

describe('operators', () => {
  it('only operators adjust credits, idempotently by Idempotency-Key', async () => {
    const { token, tenantId } = await t.signup();
    const asUser = await post(`/api/admin/tenants/${tenantId}/credits`, { amount: 5, reason: 'x' }, { authorization: `Bearer ${token}` });
    expect(asUser.status).toBe(403);
    const op = { authorization: `Bearer ${ADMIN_TOKEN}`, 'idempotency-key': `k-${tenantId}` };
    const first = await post(`/api/admin/tenants/${tenantId}/credits`, { amount: 12.5, reason: 'pilot' }, op);
    expect(first.status).toBe(201);
    const again = await post(`/api/admin/tenants/${tenantId}/credits`, { amount: 12.5, reason: 'pilot' }, op);
    expect(((await again.json()) as { replayed: boolean }).replayed).toBe(true);
    const other = await post(`/api/admin/tenants/${tenantId}/credits`, { amount: 1, reason: 'pilot' }, op);
    expect(other.status).toBe(409);
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId } })).toBe(1);
    const credits = await t.credits.getCredits(tenantId);
    expect(credits?.balance).toBe(12_500_000n);
    const unknown = await post(`/api/admin/tenants/ten_nope/credits`, { amount: 1, reason: 'x' }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(unknown.status).toBe(404);
  });

  it('refuses an amount out of range with 400 naming amount, writing nothing; later credits still apply', async () => {
    const { tenantId } = await t.signup();
    const op = { authorization: `Bearer ${ADMIN_TOKEN}` };
    for (const amount of [10_000_000_000, -10_000_000_000, 1_000_000.01, 1e21]) {
      const r = await post(`/api/admin/tenants/${tenantId}/credits`, { amount, reason: 'typo' }, op);
      expect([amount, r.status]).toEqual([amount, 400]);
      expect(await r.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_body', param: 'amount' } });
    }
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId } })).toBe(0);
    expect((await post(`/api/admin/tenants/${tenantId}/credits`, { amount: 1_000_000, reason: 'largest grant' }, op)).status).toBe(201);
    expect((await post(`/api/admin/tenants/${tenantId}/credits`, { amount: 5, reason: 'later' }, op)).status).toBe(201);
    expect((await t.credits.getCredits(tenantId))?.balance).toBe(1_000_005_000_000n);
  });

  it("refuses (400) an entry that would take the tenant's ledger total past what Redis can hold, before writing it", async () => {
    const { tenantId } = await t.signup();
    // As if granted over years: the ledger already sums to just under 2^53 micros (~9,007,199,254 USD).
    await t.prisma.ledgerEntry.create({ data: { tenantId, kind: 'promo', amountMicros: 9_007_199_000_000_000n, idempotencyKey: `huge-${tenantId}` } });
    // Sign-up wrote its zero balance to Redis; dropped, the next sync rebuilds it from this ledger.
    const redis = new Redis(t.config.REDIS_URL!);
    await redis.del(new RedisKeys(t.config.REDIS_PREFIX).balance(tenantId));
    await redis.quit();
    const op = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const over = await post(`/api/admin/tenants/${tenantId}/credits`, { amount: 1000, reason: 'one too many' }, op);
    expect(over.status).toBe(400);
    expect(await over.json()).toMatchObject({ error: { code: 'invalid_body', param: 'amount' } });
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId } })).toBe(1);
    // Nothing stuck behind it: a credit that fits is written and reaches Redis.
    expect((await post(`/api/admin/tenants/${tenantId}/credits`, { amount: 100, reason: 'fits' }, op)).status).toBe(201);
    expect((await t.credits.getCredits(tenantId))?.balance).toBe(9_007_199_100_000_000n);
  });

  it('keeps Idempotency-Keys per tenant: the same key credits another tenant (reliability T05)', async () => {
    const a = await t.signup();
    const b = await t.signup();
    const op = { authorization: `Bearer ${ADMIN_TOKEN}`, 'idempotency-key': `batch-${a.tenantId}` };
    expect((await post(`/api/admin/tenants/${a.tenantId}/credits`, { amount: 3, reason: 'pilot' }, op)).status).toBe(201);
    // Same key, same amount, another tenant: a credit of its own, not a replay of A's entry.
    const forB = await post(`/api/admin/tenants/${b.tenantId}/credits`, { amount: 3, reason: 'pilot' }, op);
    expect(forB.status).toBe(201);
    expect(await forB.json()).toMatchObject({ tenant_id: b.tenantId, replayed: false });
    // Same key, another amount, a third tenant: no 409 raised by another tenant's entry.
    const c = await t.signup();
    expect((await post(`/api/admin/tenants/${c.tenantId}/credits`, { amount: 7, reason: 'pilot' }, op)).status).toBe(201);
    expect((await t.credits.getCredits(a.tenantId))?.balance).toBe(3_000_000n);
    expect((await t.credits.getCredits(b.tenantId))?.balance).toBe(3_000_000n);
    expect((await t.credits.getCredits(c.tenantId))?.balance).toBe(7_000_000n);
  });
});
