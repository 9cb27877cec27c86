import Stripe from 'stripe';
import { DomainError, ErrorCode, loadConfig } from '@gw/core';
import { FakeStripeServer } from '@gw/testing';
import { StripeClient } from './stripe.client';

const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'ping', data: { object: {} } });
const header = (secret: string, timestamp?: number) => Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
const client = (env: Record<string, string>) => new StripeClient(loadConfig({ NODE_ENV: 'test', ...env }));
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof DomainError ? e.code : 'other';
  }
  return 'none';
};

describe('StripeClient.verifyEvent', () => {
  it('accepts any of the configured secrets (rotation) and nothing else', () => {
    const c = client({ STRIPE_WEBHOOK_SECRET: 'whsec_old, whsec_new' });
    expect(c.verifyEvent(Buffer.from(payload), header('whsec_old')).id).toBe('evt_1');
    expect(c.verifyEvent(Buffer.from(payload), header('whsec_new')).id).toBe('evt_1');
    expect(codeOf(() => c.verifyEvent(Buffer.from(payload), header('whsec_other')))).toBe(ErrorCode.InvalidBody);
    expect(codeOf(() => c.verifyEvent(Buffer.from(payload), header('whsec_new', Math.floor(Date.now() / 1000) - 301)))).toBe(ErrorCode.InvalidBody);
    expect(codeOf(() => c.verifyEvent(Buffer.from(payload), undefined))).toBe(ErrorCode.InvalidBody);
    expect(codeOf(() => c.verifyEvent(Buffer.from(`${payload} `), header('whsec_new')))).toBe(ErrorCode.InvalidBody);
  });

  it('is unavailable (503) without a webhook secret, and refuses calls without a secret key', async () => {
    const c = client({});
    expect(c.configured).toBe(false);
    expect(codeOf(() => c.verifyEvent(Buffer.from(payload), header('x')))).toBe(ErrorCode.BillingUnavailable);
    await expect(c.retrievePaymentIntent('pi_1')).rejects.toMatchObject({ code: ErrorCode.BillingUnavailable });
  });
});

describe('StripeClient against the fake Stripe', () => {
  let fake: FakeStripeServer;
  let c: StripeClient;

  beforeAll(async () => {
    fake = new FakeStripeServer({ apiKey: 'sk_test_unit' });
    c = client({ STRIPE_SECRET_KEY: 'sk_test_unit', STRIPE_API_BASE: await fake.start() });
  });
  afterAll(() => fake.close());

  it('charges a saved card off-session, reports declines without throwing, and maps outages to 503', async () => {
    const customer = await c.createCustomer('ten_unit', 'customer:ten_unit');
    const session = await c.createCheckoutSession(
      { mode: 'payment', customer: customer.id, line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'x' } } }], payment_intent_data: { setup_future_usage: 'off_session' } },
      'checkout:unit',
    );
    fake.completeCheckout(session.id, 'paid', 'pm_unit');
    const charge = { customerId: customer.id, paymentMethodId: 'pm_unit', amountCents: 700, metadata: { tenant_id: 'ten_unit' }, description: 'unit' };
    expect(await c.chargeOffSession(charge, 'k1')).toMatchObject({ kind: 'succeeded', intent: { amount: 700, status: 'succeeded' } });
    fake.declineNext(1, 'insufficient_funds');
    expect(await c.chargeOffSession(charge, 'k2')).toMatchObject({ kind: 'declined', code: 'insufficient_funds', paymentIntentId: expect.stringMatching(/^pi_/) });
    // Same key after a decline: Stripe's saved answer, not a new charge.
    expect(await c.chargeOffSession(charge, 'k2')).toMatchObject({ kind: 'declined' });
    expect(fake.paymentIntents().filter((pi) => pi.amount === 700)).toHaveLength(2);
    fake.failNext(1);
    await expect(c.retrievePaymentIntent('pi_x')).rejects.toMatchObject({ code: ErrorCode.BillingUnavailable });
    expect((await c.listRefunds('ch_none')).length).toBe(0);
  });
});
