import { UserRepository } from '@gw/db';
import { PasswordHasher } from '@gw/admin';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';
import { inviteTokenFor } from './support/tenant-fixture';

/** Accounts and teams: invitations by email, roles, password changes, operators, brute force. */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
let t: TestApp;
let n = 0;
const uniq = (label: string) => `${label}-${process.pid}-${Date.now()}-${n++}@example.com`;

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
});

async function invite(ownerToken: string, role: string): Promise<{ email: string; token: string; userId: string }> {
  const email = uniq(role);
  expect((await call(t.url, 'POST', '/api/members', { token: ownerToken, body: { email, role } })).status).toBe(201);
  const accepted = await call(t.url, 'POST', `/api/invites/${await inviteTokenFor(t, email)}/accept`, { body: { password: `${role} password 123` } });
  expect(accepted.status).toBe(201);
  return { email, token: accepted.body.token, userId: accepted.body.user.id };
}

describe('invitations', () => {
  it('invites by a token sent through the email port, once, into the right tenant and role', async () => {
    const owner = await t.signup();
    const email = uniq('Dev');
    const res = await call(t.url, 'POST', '/api/members', { token: owner.token, body: { email, role: 'developer' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: email.toLowerCase(), role: 'developer', status: 'pending' });
    expect(JSON.stringify(res.body)).not.toMatch(/token/i);
    const stored = await t.prisma.invite.findUniqueOrThrow({ where: { id: res.body.id } });
    const token = await inviteTokenFor(t, email);
    expect(stored.tokenHash).not.toContain(token);
    expect((await call(t.url, 'GET', '/api/invites', { token: owner.token })).body.data.map((i: { id: string }) => i.id)).toContain(res.body.id);

    const accepted = await call(t.url, 'POST', `/api/invites/${token}/accept`, { body: { password: 'developer password', name: 'Dev' } });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ user: { role: 'developer', name: 'Dev' }, tenant: { id: owner.tenantId } });
    const me = await call(t.url, 'GET', '/api/auth/me', { token: accepted.body.token });
    expect(me.body).toMatchObject({ user: { email: email.toLowerCase(), role: 'developer', operator: false }, tenant: { id: owner.tenantId } });
    expect((await call(t.url, 'POST', '/api/auth/login', { body: { email, password: 'developer password' } })).status).toBe(200);
    // Used once only; the pending list no longer has it; the member list does.
    expect((await call(t.url, 'POST', `/api/invites/${token}/accept`, { body: { password: 'another password' } })).status).toBe(404);
    expect((await call(t.url, 'GET', '/api/invites', { token: owner.token })).body.data).toEqual([]);
    expect((await call(t.url, 'GET', '/api/members', { token: owner.token })).body.data).toHaveLength(2);
  });

  it('refuses expired, revoked and unknown tokens, and existing accounts', async () => {
    const owner = await t.signup();
    const expiredEmail = uniq('late');
    const inv = await call(t.url, 'POST', '/api/members', { token: owner.token, body: { email: expiredEmail, role: 'viewer' } });
    await t.prisma.invite.update({ where: { id: inv.body.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await call(t.url, 'POST', `/api/invites/${await inviteTokenFor(t, expiredEmail)}/accept`, { body: { password: 'password 123' } })).status).toBe(404);

    const revokedEmail = uniq('revoked');
    const inv2 = await call(t.url, 'POST', '/api/members', { token: owner.token, body: { email: revokedEmail, role: 'viewer' } });
    expect((await call(t.url, 'DELETE', `/api/invites/${inv2.body.id}`, { token: owner.token })).status).toBe(200);
    expect((await call(t.url, 'POST', `/api/invites/${await inviteTokenFor(t, revokedEmail)}/accept`, { body: { password: 'password 123' } })).status).toBe(404);

    expect((await call(t.url, 'POST', `/api/invites/${'A'.repeat(43)}/accept`, { body: { password: 'password 123' } })).status).toBe(404);
    const other = await t.signup();
    const existing = await t.prisma.user.findFirstOrThrow({ where: { tenantId: other.tenantId } });
    const dup = await call(t.url, 'POST', '/api/members', { token: owner.token, body: { email: existing.email, role: 'viewer' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.param).toBe('email');
  });
});

describe('roles', () => {
  it('owner/admin manage members and keys; developer manages keys; billing sees billing; viewer reads', async () => {
    const owner = await t.signup();
    const admin = await invite(owner.token, 'admin');
    const dev = await invite(owner.token, 'developer');
    const billing = await invite(owner.token, 'billing');
    const viewer = await invite(owner.token, 'viewer');
    const key = { name: 'k' };
    const expectations: Array<[string, string, string, unknown, number]> = [
      ['developer creates a key', dev.token, 'POST /api/keys', key, 201],
      ['developer cannot create a management key', dev.token, 'POST /api/keys', { name: 'm', kind: 'management' }, 403],
      ['developer cannot invite', dev.token, 'POST /api/members', { email: uniq('x'), role: 'viewer' }, 403],
      ['developer cannot add provider keys', dev.token, 'POST /api/provider-keys', { provider: 'openai', api_key: 'sk-xxxxxxxxxxxx' }, 403],
      ['developer edits routing', dev.token, 'PUT /api/routing', {}, 200],
      ['developer cannot see billing', dev.token, 'GET /api/billing/ledger', undefined, 403],
      ['billing sees billing', billing.token, 'GET /api/billing/ledger', undefined, 200],
      ['billing cannot create keys', billing.token, 'POST /api/keys', key, 403],
      ['viewer reads keys', viewer.token, 'GET /api/keys', undefined, 200],
      ['viewer reads members', viewer.token, 'GET /api/members', undefined, 200],
      ['viewer reads routing', viewer.token, 'GET /api/routing', undefined, 200],
      ['viewer cannot create keys', viewer.token, 'POST /api/keys', key, 403],
      ['viewer cannot edit routing', viewer.token, 'PUT /api/routing', {}, 403],
      ['viewer cannot see billing', viewer.token, 'GET /api/billing/ledger', undefined, 403],
      ['admin invites', admin.token, 'POST /api/members', { email: uniq('y'), role: 'developer' }, 201],
      ['admin cannot grant owner', admin.token, 'POST /api/members', { email: uniq('z'), role: 'owner' }, 403],
      ['admin creates management keys', admin.token, 'POST /api/keys', { name: 'm', kind: 'management' }, 201],
    ];
    for (const [why, token, route, body, status] of expectations) {
      const [method, path] = route.split(' ');
      const res = await call(t.url, method!, path!, { token, body });
      expect({ why, status: res.status }).toEqual({ why, status });
      if (status === 403) expect(res.body.error.type).toBe('permission_error');
    }
  });

  it('protects owners: only owners touch the owner role, and the last owner stays', async () => {
    const owner = await t.signup();
    const admin = await invite(owner.token, 'admin');
    const ownerId = (await t.prisma.user.findFirstOrThrow({ where: { tenantId: owner.tenantId, role: 'owner' } })).id;
    expect((await call(t.url, 'DELETE', `/api/members/${ownerId}`, { token: admin.token })).status).toBe(403);
    expect((await call(t.url, 'PATCH', `/api/members/${ownerId}`, { token: admin.token, body: { role: 'viewer' } })).status).toBe(403);
    const last = await call(t.url, 'PATCH', `/api/members/${ownerId}`, { token: owner.token, body: { role: 'admin' } });
    expect(last.status).toBe(409);
    expect((await call(t.url, 'DELETE', `/api/members/${ownerId}`, { token: owner.token })).status).toBe(409);
    // Promote the admin to owner; then the first owner may step down.
    expect((await call(t.url, 'PATCH', `/api/members/${admin.userId}`, { token: owner.token, body: { role: 'owner' } })).body.role).toBe('owner');
    expect((await call(t.url, 'PATCH', `/api/members/${ownerId}`, { token: owner.token, body: { role: 'viewer' } })).body.role).toBe('viewer');
    // Role changes apply to live sessions at once (the role is read per request).
    expect((await call(t.url, 'POST', '/api/keys', { token: owner.token, body: { name: 'x' } })).status).toBe(403);
  });

  it("removing a member ends their sessions at once", async () => {
    const owner = await t.signup();
    const dev = await invite(owner.token, 'developer');
    expect((await call(t.url, 'GET', '/api/keys', { token: dev.token })).status).toBe(200);
    const removed = await call(t.url, 'DELETE', `/api/members/${dev.userId}`, { token: owner.token });
    expect(removed.body).toEqual({ id: dev.userId, deleted: true });
    expect((await call(t.url, 'GET', '/api/keys', { token: dev.token })).status).toBe(401);
  });

  it('removing a member withdraws the invitations they sent that are still open', async () => {
    const owner = await t.signup();
    const admin = await invite(owner.token, 'admin');
    const pending = uniq('comeback');
    const other = uniq('kept');
    expect((await call(t.url, 'POST', '/api/members', { token: admin.token, body: { email: pending, role: 'admin' } })).status).toBe(201);
    expect((await call(t.url, 'POST', '/api/members', { token: owner.token, body: { email: other, role: 'viewer' } })).status).toBe(201);
    expect((await call(t.url, 'DELETE', `/api/members/${admin.userId}`, { token: owner.token })).status).toBe(200);
    const comeback = await call(t.url, 'POST', `/api/invites/${await inviteTokenFor(t, pending)}/accept`, { body: { password: 'a long enough password' } });
    expect(comeback.status).toBe(404);
    // The owner's own invitation stands.
    expect((await call(t.url, 'POST', `/api/invites/${await inviteTokenFor(t, other)}/accept`, { body: { password: 'a long enough password' } })).status).toBe(201);
  });
});

describe('passwords', () => {
  it('a password change issues a new session and ends the older ones', async () => {
    const email = uniq('pw');
    const s = await t.signup(email);
    const changed = await call(t.url, 'POST', '/api/auth/password', { token: s.token, body: { current_password: 'correct horse battery staple', new_password: 'a brand new password' } });
    expect(changed.status).toBe(200);
    expect((await call(t.url, 'GET', '/api/keys', { token: s.token })).status).toBe(401);
    expect((await call(t.url, 'GET', '/api/keys', { token: changed.body.token })).status).toBe(200);
    expect((await call(t.url, 'POST', '/api/auth/login', { body: { email, password: 'a brand new password' } })).status).toBe(200);
  });
});

describe('operators', () => {
  it('ADMIN_TOKEN and operator users (operator:create) list tenants; they are refused on tenant routes', async () => {
    const s = await t.signup();
    const first = await call(t.url, 'GET', '/api/admin/tenants?limit=2', { token: ADMIN_TOKEN });
    expect(first.status).toBe(200);
    expect(first.body.data.length).toBeLessThanOrEqual(2);
    const one = await call(t.url, 'GET', `/api/admin/tenants/${s.tenantId}`, { token: ADMIN_TOKEN });
    expect(one.body).toMatchObject({ id: s.tenantId, balance: 0 });

    const email = uniq('ops');
    await new UserRepository(t.prisma).upsertOperator(email, await new PasswordHasher().hash('operator password 1'));
    const login = await call(t.url, 'POST', '/api/auth/login', { body: { email, password: 'operator password 1' } });
    const op = login.body.token as string;
    expect((await call(t.url, 'GET', `/api/admin/tenants/${s.tenantId}/keys`, { token: op })).body.data).toHaveLength(1);
    expect((await call(t.url, 'GET', '/api/keys', { token: op })).status).toBe(403);
    expect((await call(t.url, 'GET', '/api/keys', { token: ADMIN_TOKEN })).status).toBe(403);

    // An operator revokes a leaked key; Redis (the gateways' authority) says so at once.
    const keyId = (await t.prisma.apiKey.findFirstOrThrow({ where: { tenantId: s.tenantId } })).id;
    const revoked = await call(t.url, 'DELETE', `/api/admin/tenants/${s.tenantId}/keys/${keyId}`, { token: op });
    expect(revoked.body.status).toBe('revoked');
    expect(await t.credits.getKeyStatus(s.tenantId, keyId)).toBe('revoked');
  });
});

describe('brute-force protection', () => {
  let bf: TestApp;
  beforeAll(async () => {
    bf = await startTestApp(
      {
        REDIS_PREFIX: `${process.env.REDIS_PREFIX}bf:`,
        AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
        AUTH_LOGIN_MAX_FAILURES_PER_IP: '5',
        AUTH_SIGNUP_MAX_PER_IP: '3',
      },
      { billingWorker: false },
    );
  });
  afterAll(async () => {
    await bf?.close();
  });
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('limits failed logins per account, whatever the IP, with 429 and Retry-After', async () => {
    const email = uniq('victim');
    expect((await call(bf.url, 'POST', '/api/auth/signup', { body: { email, password: 'the real password' }, headers: from('10.1.0.1') })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      expect((await call(bf.url, 'POST', '/api/auth/login', { body: { email, password: 'guess' }, headers: from(`10.2.0.${i}`) })).status).toBe(401);
    }
    const blocked = await call(bf.url, 'POST', '/api/auth/login', { body: { email, password: 'the real password' }, headers: from('10.3.0.1') });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.body.error.type).toBe('rate_limit_error');
  });

  it('limits failed logins per IP across accounts, and sign-ups per IP', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await call(bf.url, 'POST', '/api/auth/login', { body: { email: uniq('nobody'), password: 'guess' }, headers: from('10.4.0.1') })).status).toBe(401);
    }
    expect((await call(bf.url, 'POST', '/api/auth/login', { body: { email: uniq('nobody'), password: 'guess' }, headers: from('10.4.0.1') })).status).toBe(429);
    expect((await call(bf.url, 'POST', '/api/auth/login', { body: { email: uniq('nobody'), password: 'guess' }, headers: from('10.4.0.2') })).status).toBe(401);

    for (let i = 0; i < 3; i++) {
      expect((await call(bf.url, 'POST', '/api/auth/signup', { body: { email: uniq('spam'), password: 'a long password' }, headers: from('10.5.0.1') })).status).toBe(201);
    }
    const users = await bf.prisma.user.count();
    const refused = await call(bf.url, 'POST', '/api/auth/signup', { body: { email: uniq('spam'), password: 'a long password' }, headers: from('10.5.0.1') });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(await bf.prisma.user.count()).toBe(users);
  });

  it('takes the client IP from the last hop a trusted proxy added, not from what the client wrote', async () => {
    // The test client is on loopback (a trusted proxy by default); 198.51.100.7 is the address
    // "the proxy" saw. Whatever the client put before it, the sign-ups share one IP budget of 3.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await call(bf.url, 'POST', '/api/auth/signup', { body: { email: uniq('xff'), password: 'a long password' }, headers: from(`203.0.113.${i}, 198.51.100.7`) });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429]);
  });

  it('counts parallel attempts before any of them is checked: at most the limit reach the password check', async () => {
    const email = uniq('burst');
    expect((await call(bf.url, 'POST', '/api/auth/signup', { body: { email, password: 'the real password' }, headers: from('10.7.0.1') })).status).toBe(201);
    const tries = Array.from({ length: 40 }, (_, i) =>
      call(bf.url, 'POST', '/api/auth/login', { body: { email, password: i === 39 ? 'the real password' : `guess ${i}` }, headers: from(`10.8.${i}.1`) }),
    );
    const statuses = (await Promise.all(tries)).map((r) => r.status);
    // The account's limit is 3: every other attempt is refused before the password is looked at.
    expect(statuses.filter((s) => s !== 429).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(37);
  });

  it('counts wrong current passwords on a password change toward the account limit', async () => {
    const email = uniq('stolen');
    const signup = await call(bf.url, 'POST', '/api/auth/signup', { body: { email, password: 'the real password' }, headers: from('10.9.0.1') });
    const session = { ...from('10.9.0.2'), authorization: `Bearer ${signup.body.token as string}` };
    for (let i = 0; i < 3; i++) {
      expect((await call(bf.url, 'POST', '/api/auth/password', { body: { current_password: `guess ${i}`, new_password: 'another long password' }, headers: session })).status).toBe(401);
    }
    const blocked = await call(bf.url, 'POST', '/api/auth/password', { body: { current_password: 'the real password', new_password: 'another long password' }, headers: session });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a successful login clears the account failures', async () => {
    const email = uniq('forgetful');
    await call(bf.url, 'POST', '/api/auth/signup', { body: { email, password: 'the real password' }, headers: from('10.6.0.1') });
    for (let i = 0; i < 2; i++) await call(bf.url, 'POST', '/api/auth/login', { body: { email, password: 'typo' }, headers: from('10.6.0.2') });
    expect((await call(bf.url, 'POST', '/api/auth/login', { body: { email, password: 'the real password' }, headers: from('10.6.0.2') })).status).toBe(200);
    for (let i = 0; i < 2; i++) await call(bf.url, 'POST', '/api/auth/login', { body: { email, password: 'typo' }, headers: from('10.6.0.2') });
    expect((await call(bf.url, 'POST', '/api/auth/login', { body: { email, password: 'the real password' }, headers: from('10.6.0.2') })).status).toBe(200);
  });
});
