import { createHmac } from 'node:crypto';
import { postChat, startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';
import { waitFor } from './support/billing';
import { WebhookReceiver, type ReceivedHook } from './support/webhook-receiver';
import { inviteTokenFor } from './support/tenant-fixture';

/**
 * Alerts: rules fire once per crossing to a local webhook receiver with a valid signature, are
 * retried with backoff when the receiver fails (each attempt on the delivery record), give up
 * after ALERT_DELIVERY_ATTEMPTS, and re-arm when the condition clears. The secret is shown once
 * and sealed at rest.
 */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
const EVAL_MS = 150;
const RETRY_MS = 100;
let t: TestApp;
let hooks: WebhookReceiver;

beforeAll(async () => {
  hooks = new WebhookReceiver();
  await hooks.start();
  t = await startTestApp(
    // Its own Redis prefix (health windows, queues): injected failures stay in this suite.
    { REDIS_PREFIX: `${process.env.REDIS_PREFIX}alerts:`, ALLOW_PRIVATE_PROVIDER_URLS: 'true', ALERT_EVAL_INTERVAL_MS: String(EVAL_MS), ALERT_RETRY_DELAY_MS: String(RETRY_MS), ALERT_DELIVERY_ATTEMPTS: '4' },
    { billingWorker: false, observabilityWorker: true },
  );
});
afterAll(async () => {
  await t?.close();
  await hooks?.close();
});
afterEach(() => {
  t.openai.reset();
  t.anthropic.reset();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a receiver does: recompute HMAC-SHA256(secret, "<t>.<raw body>") and compare; refuse old timestamps. */
function validSignature(h: ReceivedHook, secret: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(h.headers['x-gateway-signature']));
  if (!m) return false;
  const fresh = Math.abs(Date.now() / 1000 - Number(m[1])) < 300;
  return fresh && createHmac('sha256', secret).update(`${m[1]}.${h.body}`).digest('hex') === m[2];
}

async function tenant(usd = 1) {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, usd)).status).toBe(201);
  return s;
}

async function spend(apiKey: string, n: number, fake: Record<string, unknown> = { promptTokens: 1000, completionTokens: 1000 }) {
  for (let i = 0; i < n; i++) {
    t.openai.enqueue(fake);
    const res = await postChat(t, apiKey);
    expect(res.status).toBe(200);
  }
  await t.drain();
}

async function createRule(token: string, body: Record<string, unknown>) {
  const r = await call(t.url, 'POST', '/api/alerts', { token, body });
  expect(r.status).toBe(201);
  return r.body as { id: string; secret: string; state: string };
}

const rule = (token: string, id: string) => call(t.url, 'GET', `/api/alerts/${id}`, { token }).then((r) => r.body);
const deliveries = (token: string, id: string) => call(t.url, 'GET', `/api/alerts/deliveries?rule_id=${id}`, { token }).then((r) => r.body.data);

describe('alert rules', () => {
  it('fire exactly once per crossing of a daily spend threshold, signed, with the secret shown once and sealed', async () => {
    const s = await tenant();
    // gpt-4o-mini, 1000 + 1000 tokens: 750 micros a request; the threshold is crossed by the second.
    const created = await createRule(s.token, { kind: 'spend_daily', threshold: 0.001, webhook_url: `${hooks.url}/spend` });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    expect(created.state).toBe('armed');
    const shown = await rule(s.token, created.id);
    expect(JSON.stringify(shown)).not.toContain(created.secret);
    expect(JSON.stringify((await call(t.url, 'GET', '/api/alerts', { token: s.token })).body)).not.toContain(created.secret);
    const row = await t.prisma.alertRule.findUniqueOrThrow({ where: { id: created.id } });
    expect(Buffer.from(row.secretCiphertext).toString('latin1')).not.toContain(created.secret.slice(6, 20));

    await spend(s.apiKey, 1);
    await sleep(EVAL_MS * 5);
    expect(hooks.at('/spend')).toHaveLength(0);
    expect((await rule(s.token, created.id)).state).toBe('armed');

    await spend(s.apiKey, 1);
    const [hook] = await waitFor('the webhook', async () => (hooks.at('/spend').length ? hooks.at('/spend') : undefined));
    expect(validSignature(hook!, created.secret)).toBe(true);
    expect(validSignature(hook!, 'whsec_not_the_secret_000000000000000')).toBe(false);
    const payload = JSON.parse(hook!.body);
    expect(payload).toMatchObject({
      type: 'alert.fired',
      tenant_id: s.tenantId,
      rule: { id: created.id, kind: 'spend_daily', threshold: 0.001 },
      observed: { spend: 0.0015, spend_micros: '1500' },
    });
    expect(hook!.headers['x-gateway-delivery']).toBe(payload.id);
    expect(hook!.headers['content-type']).toBe('application/json');

    // Still over the threshold, and more spend: no second delivery for the same crossing.
    await spend(s.apiKey, 2);
    await sleep(EVAL_MS * 6);
    expect(hooks.at('/spend')).toHaveLength(1);
    expect(await rule(s.token, created.id)).toMatchObject({ state: 'fired', last_fired_at: expect.any(String) });
    expect(await deliveries(s.token, created.id)).toEqual([
      expect.objectContaining({ id: payload.id, rule_id: created.id, status: 'delivered', attempts: 1, response_status: 200, error: null, delivered_at: expect.any(String) }),
    ]);
    // Spend is read from the ledger: the tenant deleting its request logs neither re-arms the rule nor lowers the reading.
    expect((await call(t.url, 'DELETE', '/api/logs', { token: s.token })).status).toBe(200);
    await sleep(EVAL_MS * 6);
    expect((await rule(s.token, created.id)).state).toBe('fired');
    expect(hooks.at('/spend')).toHaveLength(1);
  });

  it('retry a failing receiver with backoff, re-arm when the condition clears, and fire again on the next crossing', async () => {
    const s = await tenant(1);
    hooks.answer('/balance', [500, 502]);
    const created = await createRule(s.token, { kind: 'balance_below', threshold: 5, webhook_url: `${hooks.url}/balance` });

    const attempts = await waitFor('three attempts', async () => (hooks.at('/balance').length >= 3 ? hooks.at('/balance') : undefined));
    await sleep(EVAL_MS * 4);
    expect(hooks.at('/balance')).toHaveLength(3);
    const ids = new Set(attempts.map((h) => h.headers['x-gateway-delivery']));
    expect(ids.size).toBe(1);
    for (const h of attempts) expect(validSignature(h, created.secret)).toBe(true);
    expect(JSON.parse(attempts[0]!.body)).toMatchObject({ rule: { kind: 'balance_below', threshold: 5 }, observed: { balance: 1 } });
    // Exponential backoff: about RETRY_MS, then twice that.
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(RETRY_MS - 10);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(2 * RETRY_MS - 10);
    const [first] = await waitFor('the delivery record', async () => {
      const d = await deliveries(s.token, created.id);
      return d[0]?.status === 'delivered' ? d : undefined;
    });
    expect(first).toMatchObject({ attempts: 3, response_status: 200, error: null });

    // Back above the threshold: re-armed, nothing sent.
    expect((await t.grant(s.tenantId, 10)).status).toBe(201);
    await waitFor('re-armed', async () => (await rule(s.token, created.id)).state === 'armed');
    expect(hooks.at('/balance')).toHaveLength(3);
    // Below again (an operator's adjustment): a second crossing, a second delivery.
    expect((await t.grant(s.tenantId, -9)).status).toBe(201);
    const second = await waitFor('the second crossing', async () => (hooks.at('/balance').length === 4 ? hooks.at('/balance')[3] : undefined));
    expect(second.headers['x-gateway-delivery']).not.toBe(attempts[0]!.headers['x-gateway-delivery']);
    expect(JSON.parse(second.body).observed).toMatchObject({ balance: 2 });
    await waitFor('two delivered crossings', async () => {
      const d = await deliveries(s.token, created.id);
      return d.length === 2 && d.every((x: { status: string }) => x.status === 'delivered');
    });
  });

  it('give up after ALERT_DELIVERY_ATTEMPTS, with the last error on the record', async () => {
    const s = await tenant(1);
    hooks.answer('/down', [], 503);
    const created = await createRule(s.token, { kind: 'balance_below', threshold: 2, webhook_url: `${hooks.url}/down` });
    const [d] = await waitFor('the delivery given up', async () => {
      const list = await deliveries(s.token, created.id);
      return list[0]?.status === 'failed' ? list : undefined;
    });
    expect(d).toMatchObject({ attempts: 4, response_status: 503, error: 'the receiver answered 503', delivered_at: null });
    await sleep(EVAL_MS * 4);
    expect(hooks.at('/down')).toHaveLength(4);
  });

  it('fire on the error rate of one provider, counting every upstream attempt in the window', async () => {
    const s = await tenant(1);
    const openai = await createRule(s.token, { kind: 'error_rate', provider: 'openai', threshold_rate: 0.5, window_minutes: 5, webhook_url: `${hooks.url}/errors-openai` });
    await createRule(s.token, { kind: 'error_rate', provider: 'anthropic', threshold_rate: 0.5, window_minutes: 5, webhook_url: `${hooks.url}/errors-anthropic` });
    // Each request: OpenAI fails twice (a retry), the Anthropic fallback serves it.
    for (let i = 0; i < 2; i++) {
      t.openai.enqueue({ status: 500, times: 2 });
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', models: ['anthropic/claude-haiku-4.5'], messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(res.status).toBe(200);
    }
    await t.drain();
    const [hook] = await waitFor('the error-rate webhook', async () => (hooks.at('/errors-openai').length ? hooks.at('/errors-openai') : undefined));
    expect(validSignature(hook!, openai.secret)).toBe(true);
    expect(JSON.parse(hook!.body)).toMatchObject({ rule: { kind: 'error_rate', provider: 'openai', threshold_rate: 0.5, window_minutes: 5 }, observed: { error_rate: 1, failed_attempts: 4, attempts: 4 } });
    await sleep(EVAL_MS * 4);
    expect(hooks.at('/errors-anthropic')).toHaveLength(0);
  });

  it("show a spend or balance reading only to callers who may read billing; an error-rate reading to every role", async () => {
    const s = await tenant(1);
    const member = async (role: string) => {
      const email = `${role}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
      expect((await call(t.url, 'POST', '/api/members', { token: s.token, body: { email, role } })).status).toBe(201);
      const accepted = await call(t.url, 'POST', `/api/invites/${await inviteTokenFor(t, email)}/accept`, { body: { password: 'member password 1' } });
      expect(accepted.status).toBe(201);
      return accepted.body.token as string;
    };
    const [viewer, developer, billing] = [await member('viewer'), await member('developer'), await member('billing')];
    hooks.answer('/balance-roles', [], 200);
    const low = await createRule(s.token, { kind: 'balance_below', threshold: 2, webhook_url: `${hooks.url}/balance-roles` });
    await waitFor('a delivery', async () => (await deliveries(s.token, low.id)).length === 1);
    // An error-rate delivery, as the evaluator writes it (its reading holds no money).
    const errors = await createRule(s.token, { kind: 'error_rate', threshold_rate: 0.5, webhook_url: `${hooks.url}/balance-roles` });
    const errorPayload = { id: `dlv_roles_${Date.now()}`, type: 'alert.fired', rule: { id: errors.id, kind: 'error_rate' }, observed: { error_rate: 1, attempts: 2 }, message: '100.0% of upstream attempts failed' };
    await t.prisma.alertDelivery.create({ data: { id: errorPayload.id, ruleId: errors.id, tenantId: s.tenantId, payload: errorPayload, status: 'delivered' } });

    for (const token of [s.token, billing]) {
      const [d] = await deliveries(token, low.id);
      expect(d.payload).toMatchObject({ rule: { kind: 'balance_below' }, observed: { balance: 1 }, message: expect.stringContaining('$1.00') });
    }
    for (const token of [viewer, developer]) {
      const [d] = await deliveries(token, low.id);
      expect(d).toMatchObject({ rule_id: low.id, status: 'delivered', payload: { type: 'alert.fired', rule: { kind: 'balance_below' } } });
      expect(d.payload).not.toHaveProperty('observed');
      expect(d.payload).not.toHaveProperty('message');
      expect(JSON.stringify(d)).not.toMatch(/balance_micros|1000000/);
      expect((await deliveries(token, errors.id))[0].payload).toEqual(errorPayload);
    }
  });

  it('validate fields per kind, and delete a rule with its deliveries', async () => {
    const s = await tenant(1);
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ kind: 'spend_daily', webhook_url: `${hooks.url}/x` }, 'threshold'],
      [{ kind: 'spend_daily', threshold: 1, threshold_rate: 0.5, webhook_url: `${hooks.url}/x` }, 'threshold_rate'],
      [{ kind: 'balance_below', threshold: 1, provider: 'openai', webhook_url: `${hooks.url}/x` }, 'provider'],
      [{ kind: 'error_rate', webhook_url: `${hooks.url}/x` }, 'threshold_rate'],
      [{ kind: 'error_rate', threshold_rate: 0.5, threshold: 1, webhook_url: `${hooks.url}/x` }, 'threshold'],
      [{ kind: 'spend_daily', threshold: 1, webhook_url: 'ftp://example.com/x' }, 'webhook_url'],
      [{ kind: 'spend_daily', threshold: 1, webhook_url: 'https://user:pass@93.184.215.14/x' }, 'webhook_url'],
    ];
    for (const [body, param] of bad) {
      const r = await call(t.url, 'POST', '/api/alerts', { token: s.token, body });
      expect([JSON.stringify(body), r.status, r.body.error?.param]).toEqual([JSON.stringify(body), 400, param]);
    }
    hooks.answer('/gone', [], 200);
    const created = await createRule(s.token, { kind: 'balance_below', threshold: 2, webhook_url: `${hooks.url}/gone` });
    await waitFor('a delivery', async () => (await deliveries(s.token, created.id)).length === 1);
    expect((await call(t.url, 'DELETE', `/api/alerts/${created.id}`, { token: s.token })).body).toEqual({ id: created.id, deleted: true });
    expect((await call(t.url, 'GET', `/api/alerts/${created.id}`, { token: s.token })).status).toBe(404);
    expect(await t.prisma.alertDelivery.count({ where: { ruleId: created.id } })).toBe(0);
  });
});
