import { startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';
import { waitFor } from './support/billing';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * Alert webhooks follow the BYOK base URL rules (ALLOW_PRIVATE_PROVIDER_URLS unset): private,
 * loopback and metadata addresses are refused when the rule is saved, and again at connect time
 * (a rule whose URL points inside anyway, as after DNS rebinding, is given up without a retry and
 * without a single byte reaching the address).
 */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
let t: TestApp;
let inside: WebhookReceiver;

beforeAll(async () => {
  inside = new WebhookReceiver();
  await inside.start();
  // Its own Redis prefix: its observability worker must be the only one on its queue.
  t = await startTestApp({ REDIS_PREFIX: `${process.env.REDIS_PREFIX}ssrf:`, ALERT_EVAL_INTERVAL_MS: '150', ALERT_RETRY_DELAY_MS: '50' }, { billingWorker: false, observabilityWorker: true });
});
afterAll(async () => {
  await t?.close();
  await inside?.close();
});

describe('alert webhook URLs', () => {
  it('refuses private, loopback, link-local and metadata addresses when a rule is saved', async () => {
    const s = await t.signup();
    for (const url of [`${inside.url}/hook`, 'http://localhost/hook', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.5/', 'http://[::1]/', 'http://0x7f.1/', 'http://2130706433/']) {
      const r = await call(t.url, 'POST', '/api/alerts', { token: s.token, body: { kind: 'balance_below', threshold: 1, webhook_url: url } });
      expect([url, r.status, r.body.error?.param]).toEqual([url, 400, 'webhook_url']);
    }
    expect(await t.prisma.alertRule.count({ where: { tenantId: s.tenantId } })).toBe(0);
  });

  it('checks the address again at connect time and gives up at once, with nothing sent', async () => {
    const s = await t.signup();
    expect((await t.grant(s.tenantId, 1)).status).toBe(201);
    const created = await call(t.url, 'POST', '/api/alerts', { token: s.token, body: { kind: 'balance_below', threshold: 5, webhook_url: 'https://93.184.215.14/hook', enabled: false } });
    expect(created.status).toBe(201);
    // What a rebinding name would do: the stored URL now leads to loopback.
    await t.prisma.alertRule.update({ where: { id: created.body.id }, data: { webhookUrl: `${inside.url}/hook`, enabled: true } });
    const [d] = await waitFor('the delivery given up', async () => {
      const list = (await call(t.url, 'GET', `/api/alerts/deliveries?rule_id=${created.body.id}`, { token: s.token })).body.data;
      return list[0]?.status === 'failed' ? list : undefined;
    });
    expect(d).toMatchObject({ attempts: 1, response_status: null });
    expect(d.error).toMatch(/^webhook_url points to a loopback address/);
    expect(d.error).not.toContain(inside.url);
    expect(inside.received).toHaveLength(0);
  });
});
