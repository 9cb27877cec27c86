import { FakeStripeServer } from '@gw/testing';
import { call } from './admin-api';
import { startTestApp, type TestApp } from './test-app';

export const STRIPE_SECRET_KEY = 'sk_test_gateway_suite';
export const STRIPE_WEBHOOK_SECRET = 'whsec_gateway_suite_secret';

export interface BillingApp {
  t: TestApp;
  stripe: FakeStripeServer;
  close(): Promise<void>;
}

/** The real app with Stripe pointed at a fake Stripe whose webhooks reach the app's endpoint. */
export async function startBillingApp(env: Record<string, string> = {}, opts: { billingWorker?: boolean } = {}): Promise<BillingApp> {
  const stripe = new FakeStripeServer({ apiKey: STRIPE_SECRET_KEY });
  await stripe.start();
  const t = await startTestApp(
    {
      STRIPE_SECRET_KEY,
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_BASE: stripe.baseUrl,
      TOPUP_MIN_USD: '1',
      AUTO_TOPUP_RETRY_DELAY_MS: '20',
      ...env,
    },
    opts,
  );
  stripe.setWebhookEndpoint(`${t.url}/api/billing/webhook`, STRIPE_WEBHOOK_SECRET);
  return {
    t,
    stripe,
    async close() {
      await stripe.close();
      await t.close();
    },
  };
}

/** The admin API as one tenant (or operator) token. */
export function api(t: TestApp, token: string) {
  return {
    get: (path: string) => call(t.url, 'GET', path, { token }),
    post: (path: string, body: unknown) => call(t.url, 'POST', path, { token, body }),
    put: (path: string, body: unknown) => call(t.url, 'PUT', path, { token, body }),
  };
}

/** Starts a Checkout top-up through the API; returns Stripe's session id. */
export async function checkout(t: TestApp, token: string, amount: number, saveCard = false): Promise<string> {
  const r = await api(t, token).post('/api/billing/checkout', { amount, save_card: saveCard });
  if (r.status !== 201) throw new Error(`checkout: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

export async function ledgerSum(t: TestApp, tenantId: string): Promise<bigint> {
  const rows = await t.prisma.ledgerEntry.findMany({ where: { tenantId }, select: { amountMicros: true } });
  return rows.reduce((a, r) => a + r.amountMicros, 0n);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
