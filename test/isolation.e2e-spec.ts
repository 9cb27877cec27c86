import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app';
import { adminRoutes, call, type AdminRoute } from './support/admin-api';
import { populatedTenant, type TenantFixture } from './support/tenant-fixture';

/**
 * Tenant isolation, generated from the admin route table: for every /api route with an id in its
 * path, tenant B (an owner, holding every permission) gets 404 for tenant A's ids, for every verb,
 * and nothing of A changes. A route with an id and no fixture below fails the suite: adding a
 * resource means saying which of A's objects its id names.
 */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
let t: TestApp;
let a: TenantFixture;
let b: TenantFixture;
let routes: AdminRoute[];

/** Which of A's objects a route's path parameter names, by the path up to the parameter. */
const objectOf: Record<string, (f: TenantFixture) => string> = {
  '/api/keys/:id': (f) => f.ids.key,
  '/api/members/:id': (f) => f.ids.member,
  '/api/invites/:id': (f) => f.ids.invite,
  '/api/invites/:token': (f) => f.ids.invite,
  '/api/provider-keys/:id': (f) => f.ids.providerKey,
  '/api/alerts/:id': (f) => f.ids.alert,
  '/api/logs/:id': (f) => f.ids.log,
  '/api/admin/tenants/:id': (f) => f.tenantId,
  '/api/admin/tenants/:id/keys/:keyId': (f) => f.ids.key,
};

/** Bodies valid for the route's DTO, so a 404 (not a 400) is what the id lookup answers. */
const validBody: Record<string, unknown> = {
  'PATCH /api/members/:id': { role: 'admin' },
  'POST /api/invites/:token/accept': { password: 'a long enough password' },
  'PATCH /api/keys/:id': { name: 'stolen' },
  'PATCH /api/provider-keys/:id': { label: 'stolen' },
  'POST /api/keys/:id/rotate': { grace_period_seconds: 0 },
};

const VERBS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

function concretePath(path: string, owner: TenantFixture): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, (_m, _name, offset: number) => {
    const prefix = path.slice(0, offset) + path.slice(offset).split('/')[0];
    const pick = objectOf[prefix];
    if (!pick) throw new Error(`isolation fixture missing for ${prefix} (route ${path}): add it to objectOf`);
    return encodeURIComponent(pick(owner));
  });
}

async function snapshotOf(f: TenantFixture) {
  const where = { tenantId: f.tenantId };
  const [keys, creds, users, invites, routing, alerts, logs, tenant] = await Promise.all([
    t.prisma.apiKey.findMany({ where, orderBy: { id: 'asc' } }),
    t.prisma.providerCredential.findMany({ where, orderBy: { id: 'asc' } }),
    t.prisma.user.findMany({ where, orderBy: { id: 'asc' } }),
    t.prisma.invite.findMany({ where, orderBy: { id: 'asc' } }),
    t.prisma.routingSettings.findUnique({ where }),
    t.prisma.alertRule.findMany({ where, orderBy: { id: 'asc' } }),
    t.prisma.requestLog.findMany({ where, orderBy: { requestId: 'asc' } }),
    t.prisma.tenant.findUnique({ where: { id: f.tenantId } }),
  ]);
  const redis = await Promise.all(keys.map((k) => t.credits.getKeyStatus(f.tenantId, k.id)));
  return JSON.stringify({ keys, creds, users, invites, routing, alerts, logs, tenant, redis }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
  a = await populatedTenant(t, 'a');
  b = await populatedTenant(t, 'b');
  routes = adminRoutes(t.app);
});
afterAll(async () => {
  await t?.close();
});

describe('the route table', () => {
  it('covers the tenant resources and every id route has a fixture', () => {
    const paths = new Set(routes.map((r) => `${r.method} ${r.path}`));
    for (const expected of ['GET /api/keys/:id', 'PATCH /api/keys/:id', 'DELETE /api/keys/:id', 'POST /api/keys/:id/rotate', 'DELETE /api/members/:id', 'DELETE /api/provider-keys/:id', 'POST /api/provider-keys/:id/verify']) {
      expect(paths).toContain(expected);
    }
    for (const r of routes.filter((x) => x.params.length > 0)) expect(() => concretePath(r.path, a)).not.toThrow();
  });
});

describe("tenant B and tenant A's ids", () => {
  it('gets 404 for every verb on every tenant route naming an object of A, and nothing of A changes', async () => {
    const before = await snapshotOf(a);
    const idPaths = [...new Set(routes.filter((r) => r.params.length > 0 && !r.operatorOnly).map((r) => r.path))];
    expect(idPaths.length).toBeGreaterThanOrEqual(7);
    const failures: string[] = [];
    for (const path of idPaths) {
      const url = concretePath(path, a);
      for (const verb of VERBS) {
        const registered = routes.find((r) => r.path === path && r.method === verb);
        for (const token of [b.token, b.managementKey]) {
          const body = verb === 'GET' || verb === 'DELETE' ? undefined : (validBody[`${verb} ${path}`] ?? {});
          const res = await call(t.url, verb, url, { token, body });
          // A management key is refused (403) before any lookup where it has no permission: no leak either.
          const allowed = token === b.token || !registered || registered.isPublic || registered.requires.every((p) => ['keys:read', 'keys:write', 'usage:read'].includes(p));
          const expected = allowed ? 404 : 403;
          if (res.status !== expected) failures.push(`${verb} ${path} as ${token === b.token ? 'owner' : 'management key'}: ${res.status} ${JSON.stringify(res.body)}`);
          if (registered && res.status === 404) expect(res.body).toMatchObject({ error: { code: 'not_found' } });
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await snapshotOf(a)).toBe(before);
  });

  it("never sees A's objects in B's lists, even with A's cursors", async () => {
    for (const path of ['/api/keys', '/api/members', '/api/invites', '/api/provider-keys', '/api/alerts', '/api/logs']) {
      const mine = await call(t.url, 'GET', `${path}?limit=1`, { token: a.token });
      expect(mine.status).toBe(200);
      const cursor = mine.body.next_cursor as string | null;
      const theirs = await call(t.url, 'GET', `${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: b.token });
      expect(theirs.status).toBe(200);
      const aIds = Object.values(a.ids);
      expect((theirs.body.data as Array<{ id: string }>).filter((x) => aIds.includes(x.id))).toEqual([]);
    }
    const routing = await call(t.url, 'GET', '/api/routing', { token: b.token });
    expect(routing.body.aliases).toEqual({ 'my-fast': { strategy: 'ordered', targets: [{ model: 'openai/gpt-4o-mini' }] } });
  });

  it('operator routes refuse tenant users (403) and answer 404 for unknown ids to operators', async () => {
    const opRoutes = routes.filter((r) => r.operatorOnly);
    expect(opRoutes.length).toBeGreaterThan(0);
    for (const r of opRoutes) {
      const url = r.params.length ? concretePath(r.path, a) : r.path;
      const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : { amount: 1, reason: 'x' };
      expect((await call(t.url, r.method, url, { token: b.token, body })).status).toBe(403);
    }
    const ghost = await call(t.url, 'GET', '/api/admin/tenants/ten_doesnotexist/keys', { token: ADMIN_TOKEN });
    expect(ghost.status).toBe(404);
    const wrongTenant = await call(t.url, 'DELETE', `/api/admin/tenants/${b.tenantId}/keys/${a.ids.key}`, { token: ADMIN_TOKEN });
    expect(wrongTenant.status).toBe(404);
  });
});
