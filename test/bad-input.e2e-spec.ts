import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app';
import { adminRoutes, call } from './support/admin-api';
import { populatedTenant, type TenantFixture } from './support/tenant-fixture';

/**
 * Bad input on every admin endpoint, generated from the OpenAPI document (itself generated from
 * the DTOs): for each property of each request body, a wrong type, a huge string, an invalid enum
 * value, out-of-range numbers; plus unknown fields and non-object bodies. Each must be a 400
 * naming the field, and nothing may be written. List endpoints get bad `limit`/`cursor` too.
 */
type Schema = {
  type?: string;
  $ref?: string;
  enum?: unknown[];
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  nullable?: boolean;
  additionalProperties?: unknown;
};
type Operation = { parameters?: Array<{ name: string; in: string }>; requestBody?: { content?: Record<string, { schema?: Schema }> } };

// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
let t: TestApp;
let f: TenantFixture;
let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };
/** `METHOD /path/{param}` of the routes only operators may call (they answer tenants 403 before reading a body). */
let operatorOnly: Set<string>;

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
  f = await populatedTenant(t, 'bad');
  doc = (await call(t.url, 'GET', '/api/docs-json')).body;
  operatorOnly = new Set(
    adminRoutes(t.app)
      .filter((r) => r.operatorOnly)
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{path}')}`),
  );
});

/** The bearer token a route is called with: the operators' for their routes, else the fixture tenant's owner. */
const tokenFor = (method: string, path: string): string => (path.startsWith('/api/admin/') || operatorOnly.has(`${method.toUpperCase()} ${path}`) ? ADMIN_TOKEN : f.token);
afterAll(async () => {
  await t?.close();
});

const resolve = (s: Schema | undefined): Schema => (s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()!]! : (s ?? {}));

/** A value valid for a schema (only needed for required fields of the base body). */
function validValue(name: string, s: Schema): unknown {
  // A new catalog model: a provider/model id and a price list.
  if (name === 'id') return `openai/bad-input-${Date.now()}`;
  if (name === 'pricing') return { input: '1', output: '1' };
  if (s.enum) return s.enum[s.enum.length - 1];
  if (s.format === 'email') return `valid-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  if (s.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
  if (s.type === 'integer' || s.type === 'number') return s.minimum !== undefined && s.minimum > 0 ? s.minimum : 1;
  if (s.type === 'boolean') return true;
  if (s.type === 'array') return [];
  if (s.type === 'object') return {};
  if (name === 'api_key') return 'sk-valid-provider-key-0000';
  return 'v'.repeat(Math.max(s.minLength ?? 1, 8));
}

/** Per-field bad values, each with the reason it is bad. */
function badValues(s: Schema): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const t = s.type ?? (s.enum ? typeof s.enum[0] : 'object');
  if (t === 'string') out.push(['a number instead of a string', 12345], ['a huge string', 'x'.repeat(100_001)], ['an object', { a: 1 }], ['a NUL character', 'nul\u0000here']);
  if (t === 'integer') out.push(['a string instead of an integer', '12'], ['a fraction', 1.5], ['a huge number', 1e30]);
  if (t === 'number') out.push(['a string instead of a number', '12'], ['a huge number', 1e30], ['a boolean', true]);
  if (t === 'boolean') out.push(['a string instead of a boolean', 'true'], ['a number', 1]);
  if (t === 'array') out.push(['a string instead of an array', 'x'], ['an array of numbers', [1, 2]], ['an array with a huge string', ['x'.repeat(100_001)]]);
  if (t === 'object') out.push(['a string instead of an object', 'x'], ['an array instead of an object', [1]]);
  if (s.enum) out.push(['a value outside the enum', 'definitely-not-a-valid-value']);
  if (s.minimum !== undefined && (t === 'integer' || t === 'number')) out.push(['below the minimum', s.minimum - 1]);
  if (s.maximum !== undefined && (t === 'integer' || t === 'number')) out.push(['above the maximum', s.maximum + 1]);
  return out;
}

interface Target {
  method: string;
  path: string;
  url: string;
  token?: string;
  schema: Schema;
}

/** The request URL with this tenant's own ids (so a passing body would really write). */
function urlOf(path: string): string {
  const ids: Record<string, string> = {
    '/api/keys/{id}': f.ids.key,
    '/api/members/{id}': f.ids.member,
    '/api/invites/{id}': f.ids.invite,
    '/api/invites/{token}': 'x'.repeat(43),
    '/api/provider-keys/{id}': f.ids.providerKey,
    '/api/admin/tenants/{id}': f.tenantId,
    '/api/admin/tenants/{id}/keys/{keyId}': f.ids.key,
    '/api/models/{path}': 'openai/gpt-4o-mini',
  };
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, _n, offset: number) => {
    const prefix = path.slice(0, offset) + path.slice(offset).split('/')[0];
    const id = ids[prefix];
    if (!id) throw new Error(`bad-input fixture missing for ${prefix}`);
    return id;
  });
}

function targets(): Target[] {
  const out: Target[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const schema = resolve(op.requestBody?.content?.['application/json']?.schema);
      if (!schema.properties) continue;
      const publicRoute = ['/api/auth/signup', '/api/auth/login', '/api/invites/{token}/accept'].includes(path);
      const token = publicRoute ? undefined : tokenFor(method, path);
      out.push({ method: method.toUpperCase(), path, url: urlOf(path), token, schema });
    }
  }
  return out;
}

async function fingerprint(): Promise<string> {
  const p = t.prisma;
  const where = { tenantId: f.tenantId };
  const state = await Promise.all([
    p.tenant.count(),
    p.user.count(),
    p.apiKey.count(),
    p.providerCredential.count(),
    p.invite.count(),
    p.emailOutbox.count(),
    p.ledgerEntry.count(),
    p.routingSettings.count(),
    p.apiKey.findMany({ where, orderBy: { id: 'asc' } }),
    p.providerCredential.findMany({ where, orderBy: { id: 'asc' } }),
    p.user.findMany({ where, orderBy: { id: 'asc' } }),
    p.invite.findMany({ where, orderBy: { id: 'asc' } }),
    p.routingSettings.findUnique({ where }),
    p.tenant.findUnique({ where: { id: f.tenantId } }),
    p.catalogModel.findMany({ orderBy: { id: 'asc' } }),
  ]);
  return JSON.stringify(state, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

describe('bad input on every endpoint with a body', () => {
  it('documents limits for every body field (max lengths, enums, item limits)', () => {
    const undocumented: string[] = [];
    for (const tg of targets()) {
      for (const [name, raw] of Object.entries(tg.schema.properties!)) {
        const s = resolve(raw);
        if (s.type === 'string' && !s.enum && s.maxLength === undefined) undocumented.push(`${tg.method} ${tg.path} ${name}: no maxLength`);
        if (s.type === 'array' && s.maxItems === undefined && tg.path !== '/api/routing') undocumented.push(`${tg.method} ${tg.path} ${name}: no maxItems`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('answers 400 naming the field for each bad value, unknown field and non-object body, and writes nothing', async () => {
    const list = targets();
    expect(list.length).toBeGreaterThanOrEqual(12);
    const failures: string[] = [];
    let cases = 0;
    for (const tg of list) {
      const props = tg.schema.properties!;
      const base = Object.fromEntries((tg.schema.required ?? []).map((r) => [r, validValue(r, resolve(props[r]))]));
      const before = await fingerprint();
      const attempts: Array<[string, unknown, string | null]> = [
        ['an unknown field', { ...base, unexpected_field: 1 }, 'unexpected_field'],
        ['an array body', [base], null],
        ['a string body', 'text', null],
      ];
      for (const [name, raw] of Object.entries(props)) {
        for (const [why, value] of badValues(resolve(raw))) attempts.push([`${name} as ${why}`, { ...base, [name]: value }, name]);
      }
      for (const [why, body, param] of attempts) {
        cases++;
        const res = await call(t.url, tg.method, tg.url, { token: tg.token, body });
        const got = res.body?.error?.param as string | undefined;
        const named = param === null || (got !== undefined && (got === param || got.startsWith(`${param}.`) || got.startsWith(`${param}[`)));
        if (res.status !== 400 || !named || res.body?.error?.type !== 'invalid_request_error') {
          failures.push(`${tg.method} ${tg.path} with ${why}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        } else if (param !== null && !String(res.body.error.message).includes(param)) {
          failures.push(`${tg.method} ${tg.path} with ${why}: message does not name ${param}: ${res.body.error.message}`);
        }
      }
      if ((await fingerprint()) !== before) failures.push(`${tg.method} ${tg.path}: something was written by bad input`);
    }
    expect(failures).toEqual([]);
    expect(cases).toBeGreaterThan(150);
  });

  it('refuses malformed JSON with a 400 in the OpenAI shape', async () => {
    const res = await call(t.url, 'POST', '/api/keys', { token: f.token, raw: '{"name": ' });
    expect(res.status).toBe(400);
    expect(res.body.error.type).toBe('invalid_request_error');
    const unknown = await call(t.url, 'GET', '/api/no-such-resource', { token: f.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});

describe('money and cursors', () => {
  it('answers 400 invalid_body naming the field for amounts in exponent form or below a micro, and writes nothing', async () => {
    const before = await fingerprint();
    const cases: Array<[string, string, string, object, string]> = [];
    for (const odd of [1.5e-7, 1e-7, 1e-8, 1.0000001]) {
      cases.push(
        ['POST', '/api/keys', f.token, { name: 'x', credit_limit: odd }, 'credit_limit'],
        ['PATCH', `/api/keys/${f.ids.key}`, f.token, { credit_limit: odd }, 'credit_limit'],
        ['POST', `/api/admin/tenants/${f.tenantId}/credits`, ADMIN_TOKEN, { amount: odd, reason: 'odd' }, 'amount'],
        ['POST', '/api/alerts', f.token, { kind: 'spend_daily', threshold: odd, webhook_url: 'https://93.184.215.14/alerts' }, 'threshold'],
        ['POST', '/api/billing/checkout', f.token, { amount: 10 + odd }, 'amount'],
        ['PUT', '/api/billing/auto-topup', f.token, { enabled: false, threshold: odd, amount: 10 }, 'threshold'],
      );
    }
    // Card charges are whole cents.
    cases.push(['POST', '/api/billing/checkout', f.token, { amount: 10.001 }, 'amount']);
    const failures: string[] = [];
    for (const [method, path, token, body, param] of cases) {
      const r = await call(t.url, method, path, { token, body });
      if (r.status !== 400 || r.body?.error?.code !== 'invalid_body' || r.body.error.param !== param || !String(r.body.error.message).includes(param)) {
        failures.push(`${method} ${path} ${JSON.stringify(body)}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await fingerprint()).toBe(before);
    const micro = await call(t.url, 'POST', '/api/keys', { token: f.token, body: { name: 'a micro', credit_limit: 0.000001 } });
    expect([micro.status, micro.body.credit_limit]).toEqual([201, 0.000001]);
  });

  it('refuses (400) a ledger cursor past the largest bigint id, and takes the largest', async () => {
    const cursor = (id: string) => Buffer.from(id).toString('base64url');
    const past = await call(t.url, 'GET', `/api/billing/ledger?cursor=${cursor('9999999999999999999')}`, { token: f.token });
    expect(past.status).toBe(400);
    expect(past.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body', param: 'cursor' });
    expect((await call(t.url, 'GET', `/api/billing/ledger?cursor=${cursor('9223372036854775808')}`, { token: f.token })).status).toBe(400);
    expect((await call(t.url, 'GET', `/api/billing/ledger?cursor=${cursor('9223372036854775807')}`, { token: f.token })).status).toBe(200);
  });
});

describe('list endpoints', () => {
  it('all page with limit and cursor, answer {data, next_cursor}, and refuse bad paging parameters', async () => {
    const lists = Object.entries(doc.paths).filter(([, ops]) => ops.get?.parameters?.some((p) => p.name === 'cursor'));
    expect(lists.map(([p]) => p)).toEqual(expect.arrayContaining(['/api/keys', '/api/members', '/api/invites', '/api/provider-keys', '/api/admin/tenants', '/api/models']));
    const failures: string[] = [];
    for (const [path] of lists) {
      const url = urlOf(path);
      const token = tokenFor('GET', path);
      const ok = await call(t.url, 'GET', `${url}?limit=1`, { token });
      if (ok.status !== 200 || !Array.isArray(ok.body.data) || ok.body.data.length > 1 || !('next_cursor' in ok.body)) {
        failures.push(`${path}?limit=1: ${ok.status} ${JSON.stringify(ok.body).slice(0, 200)}`);
      }
      for (const [query, param] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=abc', 'limit'], ['limit=2.5', 'limit'], ['cursor=%21%21not-a-cursor', 'cursor'], ['bogus=1', 'bogus']] as const) {
        const res = await call(t.url, 'GET', `${url}?${query}`, { token });
        if (res.status !== 400 || res.body?.error?.param !== param) failures.push(`${path}?${query}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      }
    }
    // Every GET answering a {data: [...]} envelope is one of the paged lists above.
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!ops.get || path.includes('{') || lists.some(([p]) => p === path)) continue;
      const res = await call(t.url, 'GET', path, { token: tokenFor('GET', path) });
      if (res.status === 200 && Array.isArray(res.body?.data)) failures.push(`${path} answers a list without documented paging`);
    }
    expect(failures).toEqual([]);
  });
});
