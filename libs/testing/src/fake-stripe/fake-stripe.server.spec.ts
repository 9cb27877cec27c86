import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { decodeForm } from './form';
import { FakeStripeServer } from './fake-stripe.server';
import { DECLINING_PAYMENT_METHOD } from './fake-stripe.state';

const SECRET = 'whsec_fake_test_secret';

/** A webhook endpoint that verifies every delivery with the official SDK, like the product does. */
async function receiver(): Promise<{ url: string; server: Server; received: Stripe.Event[]; bodies: string[] }> {
  const received: Stripe.Event[] = [];
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      bodies.push(raw);
      try {
        received.push(Stripe.webhooks.constructEvent(raw, String(req.headers['stripe-signature']), SECRET));
        res.writeHead(200).end('{}');
      } catch {
        res.writeHead(400).end('bad signature');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, server, received, bodies };
}

let fake: FakeStripeServer;
let stripe: Stripe;

beforeEach(async () => {
  fake = new FakeStripeServer();
  const base = new URL(await fake.start());
  stripe = new Stripe('sk_test_fake', { host: base.hostname, port: Number(base.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
});
afterEach(async () => {
  await fake.close();
});

describe('form decoding', () => {
  it('decodes Stripe bracket notation into objects and arrays', () => {
    expect(decodeForm('a=1&line_items[0][price_data][unit_amount]=500&line_items[0][quantity]=2&metadata[t]=x&expand[]=a&expand[]=b')).toEqual({
      a: '1',
      line_items: [{ price_data: { unit_amount: '500' }, quantity: '2' }],
      metadata: { t: 'x' },
      expand: ['a', 'b'],
    });
  });
});

describe('FakeStripeServer through the official SDK', () => {
  it('creates customers and checkout sessions, and completing a paid session emits signed events the SDK accepts', async () => {
    const hook = await receiver();
    try {
      fake.setWebhookEndpoint(hook.url, SECRET);
      const customer = await stripe.customers.create({ metadata: { tenant_id: 't1' } });
      const session = await stripe.checkout.sessions.create({
        mode: 'payment',
        customer: customer.id,
        client_reference_id: 't1',
        line_items: [{ price_data: { currency: 'usd', unit_amount: 2500, product_data: { name: 'Credits' } }, quantity: 1 }],
        payment_intent_data: { setup_future_usage: 'off_session', metadata: { tenant_id: 't1' } },
        success_url: 'http://app/ok',
      });
      expect(session).toMatchObject({ object: 'checkout.session', amount_total: 2500, status: 'open', payment_status: 'unpaid' });
      expect(session.url).toContain(session.id);

      fake.completeCheckout(session.id, 'paid', 'pm_saved');
      await fake.idle();
      expect(hook.received.map((e) => e.type)).toEqual(['customer.created', 'charge.succeeded', 'payment_intent.succeeded', 'checkout.session.completed']);
      const completed = hook.received[3].data.object as Stripe.Checkout.Session;
      expect(completed).toMatchObject({ payment_status: 'paid', status: 'complete' });
      const pi = await stripe.paymentIntents.retrieve(completed.payment_intent as string);
      expect(pi).toMatchObject({ status: 'succeeded', amount_received: 2500, payment_method: 'pm_saved', metadata: { tenant_id: 't1' } });
      expect(fake.deliveries.every((d) => d.status === 200)).toBe(true);

      // The card is saved for off-session use: a later charge needs no payer.
      const later = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: customer.id, payment_method: 'pm_saved', off_session: true, confirm: true });
      expect(later.status).toBe('succeeded');
    } finally {
      hook.server.close();
    }
  });

  it('delivers copies concurrently, in reverse, after a delay, or holds them back', async () => {
    const hook = await receiver();
    try {
      fake.setWebhookEndpoint(hook.url, SECRET);
      fake.setDelivery({ copies: 5, concurrent: true });
      await stripe.customers.create({});
      await fake.idle();
      expect(hook.received).toHaveLength(5);
      expect(new Set(hook.received.map((e) => e.id)).size).toBe(1);

      fake.setDelivery({ order: 'reverse', delayMs: 30 });
      const c = await stripe.customers.create({});
      const s = await stripe.checkout.sessions.create({ mode: 'payment', customer: c.id, line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'x' } }, quantity: 1 }] });
      const t0 = Date.now();
      fake.completeCheckout(s.id, 'paid');
      await fake.idle();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
      expect(hook.received.slice(-3).map((e) => e.type)).toEqual(['checkout.session.completed', 'payment_intent.succeeded', 'charge.succeeded']);

      fake.webhooks.pause();
      await stripe.customers.create({});
      expect(fake.webhooks.heldCount).toBe(1);
      const before = hook.received.length;
      fake.webhooks.release();
      await fake.idle();
      expect(hook.received.length).toBe(before + 1);
    } finally {
      hook.server.close();
    }
  });

  it('signs with the real scheme: a wrong secret or a stale timestamp is refused by the SDK', async () => {
    fake.setWebhookEndpoint('http://127.0.0.1:1/unused', SECRET);
    await stripe.customers.create({});
    const event = fake.events[0];
    const good = fake.webhooks.signed(event);
    expect(Stripe.webhooks.constructEvent(good.payload, good.header, SECRET).id).toBe(event.id);
    const wrong = fake.webhooks.signed(event, { secret: 'whsec_other' });
    expect(() => Stripe.webhooks.constructEvent(wrong.payload, wrong.header, SECRET)).toThrow(Stripe.errors.StripeSignatureVerificationError);
    const stale = fake.webhooks.signed(event, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(() => Stripe.webhooks.constructEvent(stale.payload, stale.header, SECRET)).toThrow(/tolerance/i);
    expect(() => Stripe.webhooks.constructEvent(good.payload.replace(event.id, 'evt_forged'), good.header, SECRET)).toThrow();
  });

  it('honours Idempotency-Key like Stripe: same answer (even a decline), other parameters refused', async () => {
    const c = await stripe.customers.create({});
    const params = { amount: 700, currency: 'usd', customer: c.id, payment_method: DECLINING_PAYMENT_METHOD, off_session: true, confirm: true };
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: 'k1' }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect((first as Stripe.errors.StripeCardError).code).toBe('card_declined');
    const again = await stripe.paymentIntents.create(params, { idempotencyKey: 'k1' }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(fake.paymentIntents()).toHaveLength(1);
    const other = await stripe.paymentIntents.create({ ...params, amount: 800 }, { idempotencyKey: 'k1' }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(fake.requests.filter((r) => r.replayed)).toHaveLength(1);
  });

  it('declines on demand, and a dropped answer is resolved by retrying with the same key (one charge)', async () => {
    const c = await stripe.customers.create({});
    const s = await stripe.checkout.sessions.create({
      mode: 'payment',
      customer: c.id,
      line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'x' } }, quantity: 1 }],
      payment_intent_data: { setup_future_usage: 'off_session' },
    });
    fake.completeCheckout(s.id, 'paid', 'pm_card');
    const charge = (key: string) => stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: c.id, payment_method: 'pm_card', off_session: true, confirm: true }, { idempotencyKey: key });
    fake.declineNext(1);
    await expect(charge('a')).rejects.toBeInstanceOf(Stripe.errors.StripeCardError);
    expect((await charge('b')).status).toBe('succeeded');
    // stripe-node retries a closed connection once by itself (same key): drop both answers.
    fake.failNext(2, 'drop');
    await expect(charge('c')).rejects.toThrow();
    const retried = await charge('c');
    expect(retried.status).toBe('succeeded');
    expect(fake.charges().filter((ch) => ch.amount === 1000)).toHaveLength(2);
    // A card that is not saved on the customer cannot be charged off-session.
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: c.id, payment_method: 'pm_other', off_session: true, confirm: true })).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });

  it('refunds (full and partial), lists refunds by charge, opens and closes disputes, with their events', async () => {
    const c = await stripe.customers.create({});
    const s = await stripe.checkout.sessions.create({ mode: 'payment', customer: c.id, line_items: [{ price_data: { currency: 'usd', unit_amount: 5000, product_data: { name: 'x' } }, quantity: 1 }] });
    const done = fake.completeCheckout(s.id, 'paid');
    const pi = done.payment_intent!;
    const r1 = fake.refund(pi, 1000);
    const r2 = await stripe.refunds.create({ payment_intent: pi, amount: 500 });
    const charge = fake.charges()[0];
    expect(charge.amount_refunded).toBe(1500);
    const list = await stripe.refunds.list({ charge: charge.id });
    expect(list.data.map((r) => r.id).sort()).toEqual([r1.id, r2.id].sort());
    await expect(stripe.refunds.create({ payment_intent: pi, amount: 999_999 })).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(fake.eventsOfType('charge.refunded')).toHaveLength(2);
    const d = fake.dispute(pi, 2000);
    fake.closeDispute(d.id, 'won');
    expect(fake.eventsOfType('charge.dispute.created')[0].data.object).toMatchObject({ id: d.id, amount: 2000, payment_intent: pi });
    expect(fake.eventsOfType('charge.dispute.closed')[0].data.object).toMatchObject({ status: 'won' });
  });

  it('completes unpaid sessions whose payment settles later, or fails', async () => {
    const mk = () => stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price_data: { currency: 'usd', unit_amount: 900, product_data: { name: 'x' } }, quantity: 1 }] });
    const a = await mk();
    const b = await mk();
    expect(fake.completeCheckout(a.id, 'unpaid').payment_status).toBe('unpaid');
    fake.completeCheckout(b.id, 'unpaid');
    fake.settleAsyncPayment(a.id, true);
    fake.settleAsyncPayment(b.id, false);
    expect(fake.eventsOfType('checkout.session.async_payment_succeeded')[0].data.object).toMatchObject({ id: a.id, payment_status: 'paid' });
    expect(fake.eventsOfType('checkout.session.async_payment_failed')[0].data.object).toMatchObject({ id: b.id });
    expect((await stripe.paymentIntents.retrieve(fake.state.sessions.get(b.id)!.payment_intent!)).status).toBe('requires_payment_method');
  });

  it('refuses a wrong API key and unknown objects in Stripe error shape', async () => {
    const base = new URL(fake.baseUrl);
    const bad = new Stripe('rk_live_nope', { host: base.hostname, port: Number(base.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });
    await expect(bad.customers.create({})).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    await expect(stripe.paymentIntents.retrieve('pi_missing')).rejects.toMatchObject({ code: 'resource_missing', statusCode: 404 });
  });
});
