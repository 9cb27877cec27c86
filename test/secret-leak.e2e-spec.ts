import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';
import { waitFor } from './support/billing';
import { WebhookReceiver } from './support/webhook-receiver';
import { inviteTokenFor } from './support/tenant-fixture';

/**
 * The application's own output while a whole account flow runs at LOG_LEVEL=trace with access
 * lines for every route: sign-up, login (right and wrong), keys, a BYOK key that the provider
 * refuses, chat requests with upstream errors, streams and bad keys, a password change, an alert
 * webhook that fails once. Every byte written to stdout and stderr is captured; it must be JSON
 * lines carrying request ids, and contain no API key, BYOK secret, password, session token,
 * webhook secret, operator token or platform provider key.
 */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
let t: TestApp;
let hooks: WebhookReceiver;
let output = '';
const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

function capture(): void {
  const tee = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    output += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') (done as () => void)();
    return true;
  };
  process.stdout.write = tee as typeof process.stdout.write;
  process.stderr.write = tee as typeof process.stderr.write;
}

function release(): void {
  process.stdout.write = originals.out;
  process.stderr.write = originals.err;
}

beforeAll(async () => {
  hooks = new WebhookReceiver();
  await hooks.start();
  capture();
  t = await startTestApp(
    // Its own Redis prefix: injected upstream failures stay in this suite.
    { REDIS_PREFIX: `${process.env.REDIS_PREFIX}leak:`, LOG_LEVEL: 'trace', ACCESS_LOG: 'all', ALLOW_PRIVATE_PROVIDER_URLS: 'true', ALERT_EVAL_INTERVAL_MS: '150', ALERT_RETRY_DELAY_MS: '50' },
    { observabilityWorker: true },
  );
});
afterAll(async () => {
  try {
    await t?.close();
  } finally {
    release();
    await hooks?.close();
  }
});

describe('application output', () => {
  it('is JSON lines with request ids and never contains a secret', async () => {
    const secrets: Record<string, string> = { admin: ADMIN_TOKEN, platformOpenAi: 'sk-platform-openai', platformAnthropic: 'sk-platform-anthropic' };
    const password = `pw-canary-${randomUUID()}`;
    const email = `leak-${randomUUID()}@example.com`;
    const signup = await call(t.url, 'POST', '/api/auth/signup', { body: { email, password } });
    expect(signup.status).toBe(201);
    Object.assign(secrets, { password, jwt: signup.body.token, key: signup.body.api_key.key });
    const token = signup.body.token as string;
    const tenantId = signup.body.tenant.id as string;
    expect((await call(t.url, 'POST', '/api/auth/login', { body: { email, password: `${password}-wrong` } })).status).toBe(401);
    expect((await call(t.url, 'POST', '/api/auth/login', { body: { email, password } })).status).toBe(200);
    expect((await t.grant(tenantId, 2)).status).toBe(201);

    const k2 = await call(t.url, 'POST', '/api/keys', { token, body: { name: 'second' } });
    const mgmt = await call(t.url, 'POST', '/api/keys', { token, body: { name: 'mgmt', kind: 'management' } });
    secrets.key2 = k2.body.key;
    secrets.management = mgmt.body.key;
    const rotated = await call(t.url, 'POST', `/api/keys/${k2.body.id}/rotate`, { token, body: { grace_period_seconds: 0 } });
    secrets.rotated = rotated.body.key.key;

    // A BYOK key the provider refuses: the verify call and the chat request hit the error paths.
    secrets.byok = `sk-byok-canary-${randomUUID()}`;
    const pk = await call(t.url, 'POST', '/api/provider-keys', { token, body: { provider: 'openai', api_key: secrets.byok, base_url: `${t.openai.baseUrl}/v1`, priority: 'first' } });
    expect(pk.status).toBe(201);
    expect((await call(t.url, 'POST', `/api/provider-keys/${pk.body.id}/verify`, { token })).body.verified).toBe(false);
    // The refused key is tried first and the platform's key after it, so both paths write their logs.
    expect((await call(t.url, 'PUT', '/api/routing', { token, body: { byok_fallback_to_platform: true } })).status).toBe(200);

    const requestIds: string[] = [];
    /** Every answer's body and headers the client received on /v1. */
    const answers: string[] = [];
    const chat = async (key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...body }),
      });
      answers.push(JSON.stringify([...res.headers]), await res.text());
      if (res.headers.get('x-request-id')) requestIds.push(res.headers.get('x-request-id')!);
      return res.status;
    };
    expect(await chat(secrets.key, {})).toBe(200);
    expect(await chat(secrets.key, { stream: true })).toBe(200);
    // Twice: the refused BYOK attempt takes one queued behaviour, the platform's attempt the other.
    t.openai.enqueue({ status: 400, errorMessage: `echoing your key ${secrets.byok}`, times: 2 });
    expect(await chat(secrets.key, {})).toBe(400);
    t.openai.enqueue({ status: 500, times: 4 });
    expect(await chat(secrets.key, {})).toBeGreaterThanOrEqual(500);
    expect(await chat(secrets.key, { model: 'nope/nothing' })).toBe(404);
    secrets.garbage = `sk-gw-${randomUUID().replace(/-/g, '')}`;
    expect(await chat(secrets.garbage, {})).toBe(401);
    expect(await chat(secrets.management, {})).toBe(403);
    const messages = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': secrets.rotated, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'anthropic/claude-haiku-4.5', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(messages.status).toBe(200);
    expect((await fetch(`${t.url}/v1/models?key=${secrets.key}`)).status).toBe(200);
    expect((await fetch(`${t.url}/v1/generation?id=gen-none`, { headers: { authorization: `Bearer ${secrets.key}` } })).status).toBe(404);

    const newPassword = `pw-canary-new-${randomUUID()}`;
    const changed = await call(t.url, 'POST', '/api/auth/password', { token, body: { current_password: password, new_password: newPassword } });
    expect(changed.status).toBe(200);
    Object.assign(secrets, { newPassword, jwt2: changed.body.token });
    expect((await call(t.url, 'POST', '/api/auth/password', { token: changed.body.token, body: { current_password: password, new_password: `${newPassword}-x` } })).status).toBeGreaterThanOrEqual(400);

    // An alert whose receiver fails once (a warning in the log), then takes it.
    hooks.answer('/leak', [500]);
    const alert = await call(t.url, 'POST', '/api/alerts', { token: changed.body.token, body: { kind: 'balance_below', threshold: 100, webhook_url: `${hooks.url}/leak` } });
    expect(alert.status).toBe(201);
    secrets.webhook = alert.body.secret;
    await waitFor('the alert delivered', async () => hooks.at('/leak').length === 2);
    await waitFor('usage drained', async () => (await t.prisma.requestLog.count({ where: { tenantId } })) >= 4);

    // An invitation's token travels in the accept path: refused once (short password), then used.
    const invitee = `invitee-${randomUUID()}@example.com`;
    expect((await call(t.url, 'POST', '/api/members', { token: changed.body.token, body: { email: invitee, role: 'developer' } })).status).toBe(201);
    secrets.invite = await inviteTokenFor(t, invitee);
    expect((await call(t.url, 'POST', `/api/invites/${secrets.invite}/accept`, { body: { password: 'short' } })).status).toBe(400);
    expect((await call(t.url, 'POST', `/api/invites/${secrets.invite}/accept`, { body: { password: 'a long enough password' } })).status).toBe(201);

    const lines = output.split('\n').filter((l) => l.trim() !== '');
    const parsed = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { unparsed: l };
      }
    });
    expect(parsed.filter((p) => 'unparsed' in p)).toEqual([]);
    // The output is real: access lines for the API and the gateway (with the gateway's request ids), and warnings.
    const access = parsed.filter((p) => p.context === 'access');
    expect(access.some((p) => p.path === '/api/auth/signup' && typeof p.req_id === 'string' && String(p.req_id).startsWith('req-'))).toBe(true);
    expect(access.filter((p) => p.path === '/api/invites/[redacted]/accept').map((p) => p.status)).toEqual([400, 201]);
    for (const id of requestIds) expect(access.some((p) => p.req_id === id && p.path === '/v1/chat/completions')).toBe(true);
    expect(parsed.some((p) => p.level === 'warn' && String(p.msg).includes('alert delivery'))).toBe(true);
    expect(access.length).toBeGreaterThan(20);

    const leaks = Object.entries(secrets).filter(([, s]) => output.includes(s));
    expect(leaks.map(([name]) => name)).toEqual([]);
    // Not even the distinctive middle of a key.
    for (const [name, s] of Object.entries(secrets)) if (s.length > 24) expect([name, output.includes(s.slice(8, 24))]).toEqual([name, false]);

    // Nor what the clients were answered (the upstream 400 above echoed the BYOK key) ...
    const answered = answers.join('\n');
    expect(answered.length).toBeGreaterThan(500);
    expect(Object.entries(secrets).filter(([, v]) => answered.includes(v) || (v.length > 24 && answered.includes(v.slice(8, 24)))).map(([name]) => name)).toEqual([]);
    // ... nor anything stored: every Redis key under this suite's prefix (BullMQ's jobs and failed
    // jobs included) and every row of every table (reliability T47).
    // The email outbox is left out: it is the email port's delivery queue, and an invitation's
    // email carries its token to the invitee by design (the invites table keeps only its hash).
    const stored = [...(await redisContents(t)), ...(await databaseContents(t, ['email_outbox']))].join('\n');
    expect(stored).toContain(tenantId);
    const inStore = Object.entries(secrets).filter(([, v]) => stored.includes(v) || (v.length > 24 && stored.includes(v.slice(8, 24))));
    expect(inStore.map(([name]) => name)).toEqual([]);
  });
});

/** Every key and value under the suite's Redis prefix, as text. */
async function redisContents(app: TestApp): Promise<string[]> {
  const redis = new Redis(app.config.REDIS_URL!);
  const out: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${app.config.REDIS_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        const type = await redis.type(k);
        const value =
          type === 'string' ? await redis.getBuffer(k).then((b) => b?.toString('latin1'))
          : type === 'hash' ? await redis.hgetall(k)
          : type === 'list' ? await redis.lrange(k, 0, -1)
          : type === 'set' ? await redis.smembers(k)
          : type === 'zset' ? await redis.zrange(k, 0, -1, 'WITHSCORES')
          : type === 'stream' ? await redis.xrange(k, '-', '+')
          : type;
        out.push(k, JSON.stringify(value));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  expect(out.length).toBeGreaterThan(10);
  return out;
}

/** Every row of every table of the test database but `except`, as JSON. */
async function databaseContents(app: TestApp, except: string[]): Promise<string[]> {
  const tables = await app.prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`;
  expect(tables.length).toBeGreaterThan(10);
  const out: string[] = [];
  for (const { table_name: name } of tables) {
    if (except.includes(name)) continue;
    const rows = await app.prisma.$queryRawUnsafe<unknown[]>(`SELECT * FROM "${name.replace(/"/g, '""')}"`);
    out.push(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)));
  }
  return out;
}
