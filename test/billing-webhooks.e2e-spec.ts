import { stripeSignatureHeader } from '@gw/testing';
import { PaymentTransaction } from '@gw/db';
import { api, checkout, ledgerSum, startBillingApp, STRIPE_WEBHOOK_SECRET, waitFor, type BillingApp } from './support/billing';

let b: BillingApp;

beforeAll(async () => {
  b = await startBillingApp({}, { billingWorker: false });
});
afterAll(async () => {
  await b?.close();
});
afterEach(async () => {
  await b.stripe.idle();
  b.stripe.setDelivery({});
});

const credits = async (tenantId: string) => (await b.t.credits.getCredits(tenantId))!;
const entries = (tenantId: string, kind?: 'topup' | 'refund' | 'dispute') => b.t.prisma.ledgerEntry.findMany({ where: { tenantId, ...(kind ? { kind } : {}) }, orderBy: { id: 'asc' } });

/** A tenant that paid `usd` through Checkout; returns its payment intent. */
async function paid(usd: number, saveCard = false) {
  const s = await b.t.signup();
  const sessionId = await checkout(b.t, s.token, usd, saveCard);
  const session = b.stripe.completeCheckout(sessionId, 'paid');
  await b.stripe.idle();
  return { ...s, sessionId, pi: session.payment_intent! };
}

describe('POST /api/billing/checkout', () => {
  it('creates a Checkout Session for the tenant, with one Stripe customer per tenant, and records the payment', async () => {
    const s = await b.t.signup();
    const r = await api(b.t, s.token).post('/api/billing/checkout', { amount: 25, save_card: true });
    expect(r.status).toBe(201);
    expect(r.body.id).toMatch(/^cs_test_/);
    expect(r.body.url).toContain(r.body.id);
    const session = b.stripe.state.sessions.get(r.body.id)!;
    expect(session).toMatchObject({ amount_total: 2500, currency: 'usd', client_reference_id: s.tenantId, metadata: { tenant_id: s.tenantId, save_card: 'true' } });
    const again = await api(b.t, s.token).post('/api/billing/checkout', { amount: 10 });
    expect(b.stripe.state.sessions.get(again.body.id)!.customer).toBe(session.customer);
    expect(await b.t.prisma.stripeCustomer.count({ where: { tenantId: s.tenantId } })).toBe(1);
    const payments = await b.t.prisma.payment.findMany({ where: { tenantId: s.tenantId }, orderBy: { createdAt: 'asc' } });
    expect(payments.map((p) => [p.checkoutSessionId, p.amountMicros, p.status])).toEqual([
      [r.body.id, 25_000_000n, 'open'],
      [again.body.id, 10_000_000n, 'open'],
    ]);
    // Nothing is credited before Stripe says the money arrived.
    expect(await entries(s.tenantId, 'topup')).toHaveLength(0);
  });

  it('returns the payer to pages the admin API serves by default, with the session id filled in', async () => {
    const s = await b.t.signup();
    const r = await api(b.t, s.token).post('/api/billing/checkout', { amount: 5 });
    const session = b.stripe.state.sessions.get(r.body.id)!;
    expect(session.success_url).toMatch(/\/api\/billing\/checkout\/success\?session_id=\{CHECKOUT_SESSION_ID\}$/);
    expect(session.cancel_url).toMatch(/\/api\/billing\/checkout\/cancel$/);
    const paid = await fetch(`${r.body.url}/paid`, { method: 'POST', redirect: 'manual' });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toContain(`session_id=${r.body.id}`);
    for (const [path, text] of [['success', 'Payment received'], ['cancel', 'Payment cancelled']]) {
      const page = await fetch(`${b.t.url}/api/billing/checkout/${path}?session_id=${r.body.id}`);
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(await page.text()).toContain(text);
    }
  });

  it('creates one Stripe customer for concurrent first checkouts', async () => {
    const s = await b.t.signup();
    const ids = await Promise.all(Array.from({ length: 5 }, () => checkout(b.t, s.token, 5)));
    const customers = new Set(ids.map((id) => b.stripe.state.sessions.get(id)!.customer));
    expect(customers.size).toBe(1);
  });

  it('refuses amounts outside the bounds, fractions of cents, and callers without billing rights', async () => {
    const s = await b.t.signup();
    const c = api(b.t, s.token);
    expect((await c.post('/api/billing/checkout', { amount: 0.5 })).body.error).toMatchObject({ code: 'invalid_body', param: 'amount' });
    expect((await c.post('/api/billing/checkout', { amount: 10_001 })).status).toBe(400);
    expect((await c.post('/api/billing/checkout', { amount: 5.001 })).status).toBe(400);
    expect((await c.post('/api/billing/checkout', { amount: 5, tenant_id: 'x' })).status).toBe(400);
    const operator = await api(b.t, 'test-admin-token-0123456789').post('/api/billing/checkout', { amount: 5 });
    expect(operator.status).toBe(403);
    expect((await fetch(`${b.t.url}/api/billing/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":5}' })).status).toBe(401);
  });
});

describe('POST /api/billing/webhook', () => {
  it('credits a paid Checkout once, visible in /v1/credits and the ledger API', async () => {
    const { tenantId, apiKey, token, pi } = await paid(20);
    expect((await entries(tenantId, 'topup')).map((e) => [e.idempotencyKey, e.amountMicros])).toEqual([[`topup:${pi}`, 20_000_000n]]);
    expect((await credits(tenantId)).balance).toBe(20_000_000n);
    const v1 = await (await fetch(`${b.t.url}/v1/credits`, { headers: { authorization: `Bearer ${apiKey}` } })).json();
    expect(v1).toMatchObject({ data: { total_credits: 20, balance: 20 } });
    const ledger = await api(b.t, token).get('/api/billing/ledger');
    expect(ledger.body.data).toEqual([expect.objectContaining({ kind: 'topup', amount: 20, amount_micros: '20000000' })]);
    expect(ledger.body.next_cursor).toBeNull();
    expect(await b.t.prisma.payment.findFirst({ where: { tenantId } })).toMatchObject({ status: 'succeeded', paymentIntentId: pi });
    // Three events were delivered for this payment (charge, intent, session): one credit.
    expect(b.stripe.deliveries.filter((d) => d.status !== 200)).toEqual([]);
  });

  it('credits once when the same events are delivered five times at once', async () => {
    b.stripe.setDelivery({ copies: 5, concurrent: true });
    const { tenantId, pi } = await paid(7);
    const mine = b.stripe.deliveries.filter((d) => b.stripe.events.find((e) => e.id === d.eventId && JSON.stringify(e.data.object).includes(pi)));
    expect(mine.length).toBeGreaterThanOrEqual(15);
    expect(mine.every((d) => d.status === 200)).toBe(true);
    const outcomes = mine.filter((d) => d.type === 'checkout.session.completed').map((d) => JSON.parse(d.body).outcome);
    expect(outcomes.sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'processed']);
    expect(await entries(tenantId, 'topup')).toHaveLength(1);
    expect((await credits(tenantId)).balance).toBe(7_000_000n);
    expect(await ledgerSum(b.t, tenantId)).toBe(7_000_000n);
  });

  it('credits once whatever the order and delay of deliveries, and redeliveries long after', async () => {
    b.stripe.setDelivery({ order: 'reverse', delayMs: 50, copies: 2 });
    const { tenantId, pi } = await paid(9);
    b.stripe.redeliver(b.stripe.events.filter((e) => JSON.stringify(e.data.object).includes(pi)), { order: 'shuffle', concurrent: true });
    await b.stripe.idle();
    expect((await entries(tenantId, 'topup')).map((e) => e.idempotencyKey)).toEqual([`topup:${pi}`]);
    expect((await credits(tenantId)).balance).toBe(9_000_000n);
  });

  it('credits a delayed payment only when it succeeds, and never one that failed', async () => {
    const s = await b.t.signup();
    const ok = await checkout(b.t, s.token, 11);
    const ko = await checkout(b.t, s.token, 13);
    b.stripe.completeCheckout(ok, 'unpaid');
    b.stripe.completeCheckout(ko, 'unpaid');
    await b.stripe.idle();
    expect(await entries(s.tenantId, 'topup')).toHaveLength(0);
    expect((await b.t.prisma.payment.findMany({ where: { tenantId: s.tenantId } })).map((p) => p.status)).toEqual(['processing', 'processing']);
    b.stripe.settleAsyncPayment(ok, true);
    b.stripe.settleAsyncPayment(ko, false);
    await b.stripe.idle();
    expect((await entries(s.tenantId, 'topup')).map((e) => e.amountMicros)).toEqual([11_000_000n]);
    expect(await b.t.prisma.payment.findFirst({ where: { checkoutSessionId: ko } })).toMatchObject({ status: 'failed' });
    expect(await b.t.prisma.payment.findFirst({ where: { checkoutSessionId: ok } })).toMatchObject({ status: 'succeeded' });
    expect((await credits(s.tenantId)).balance).toBe(11_000_000n);
  });

  it('debits each refund once, partial or full, however often it is delivered', async () => {
    const { tenantId, pi } = await paid(30);
    b.stripe.setDelivery({ copies: 3, concurrent: true });
    const r1 = b.stripe.refund(pi, 500);
    await b.stripe.idle();
    const r2 = b.stripe.refund(pi, 1000);
    await b.stripe.idle();
    const refunds = await entries(tenantId, 'refund');
    expect(refunds.map((e) => [e.idempotencyKey, e.amountMicros]).sort()).toEqual([
      [`refund:${r1.id}`, -5_000_000n],
      [`refund:${r2.id}`, -10_000_000n],
    ].sort());
    expect((await credits(tenantId)).balance).toBe(15_000_000n);
    expect(await b.t.prisma.payment.findFirst({ where: { paymentIntentId: pi } })).toMatchObject({ refundedMicros: 15_000_000n });
    // The rest, delivered once more later: the balance may reach zero, never below what was paid back.
    b.stripe.refund(pi);
    await b.stripe.idle();
    b.stripe.redeliver(b.stripe.eventsOfType('charge.refunded'), { concurrent: true });
    await b.stripe.idle();
    expect(await entries(tenantId, 'refund')).toHaveLength(3);
    expect((await credits(tenantId)).balance).toBe(0n);
    expect(await ledgerSum(b.t, tenantId)).toBe(0n);
  });

  it('holds a disputed amount at once and gives it back when the dispute is won', async () => {
    const { tenantId, pi } = await paid(40);
    b.stripe.setDelivery({ copies: 2, concurrent: true });
    const d = b.stripe.dispute(pi, 1500);
    await b.stripe.idle();
    expect((await entries(tenantId, 'dispute')).map((e) => [e.idempotencyKey, e.amountMicros])).toEqual([[`dispute:${d.id}`, -15_000_000n]]);
    expect((await credits(tenantId)).balance).toBe(25_000_000n);
    b.stripe.closeDispute(d.id, 'won');
    await b.stripe.idle();
    expect((await credits(tenantId)).balance).toBe(40_000_000n);
    const lost = b.stripe.dispute(pi, 500);
    b.stripe.closeDispute(lost.id, 'lost');
    await b.stripe.idle();
    expect((await credits(tenantId)).balance).toBe(35_000_000n);
    expect(await ledgerSum(b.t, tenantId)).toBe(35_000_000n);
  });

  it('takes nothing for a dispute inquiry (no funds withdrawn) that closes', async () => {
    const { tenantId, pi } = await paid(40);
    const inquiry = b.stripe.dispute(pi, 4000, true);
    await b.stripe.idle();
    b.stripe.closeDispute(inquiry.id, 'warning_closed');
    await b.stripe.idle();
    expect(await entries(tenantId, 'dispute')).toEqual([]);
    expect((await credits(tenantId)).balance).toBe(40_000_000n);
    expect(await ledgerSum(b.t, tenantId)).toBe(40_000_000n);
  });

  it('gives back a refund that fails after it succeeded, once', async () => {
    const { tenantId, pi } = await paid(30);
    const r = b.stripe.refund(pi, 1000);
    await b.stripe.idle();
    expect((await credits(tenantId)).balance).toBe(20_000_000n);
    b.stripe.setDelivery({ copies: 2, concurrent: true });
    b.stripe.failRefund(r.id);
    await b.stripe.idle();
    expect((await entries(tenantId, 'refund')).map((e) => [e.idempotencyKey, e.amountMicros])).toEqual([
      [`refund:${r.id}`, -10_000_000n],
      [`refund_failed:${r.id}`, 10_000_000n],
    ]);
    expect((await credits(tenantId)).balance).toBe(30_000_000n);
    expect(await ledgerSum(b.t, tenantId)).toBe(30_000_000n);
  });

  it('applies a refund that overtakes the payment events: the payment is credited first, then debited', async () => {
    const s = await b.t.signup();
    const sessionId = await checkout(b.t, s.token, 12);
    b.stripe.webhooks.pause();
    const pi = b.stripe.completeCheckout(sessionId, 'paid').payment_intent!;
    b.stripe.refund(pi, 200);
    const held = b.stripe.webhooks.heldCount;
    b.stripe.webhooks.release({ order: 'reverse' });
    await b.stripe.idle();
    expect(held).toBe(5);
    expect((await entries(s.tenantId)).map((e) => e.kind)).toEqual(['topup', 'refund']);
    expect((await credits(s.tenantId)).balance).toBe(10_000_000n);
  });

  it('verifies the signature on the raw body: wrong secret, stale, missing, tampered or re-serialized bodies change nothing', async () => {
    const s = await b.t.signup();
    const sessionId = await checkout(b.t, s.token, 6);
    b.stripe.webhooks.pause();
    b.stripe.completeCheckout(sessionId, 'paid');
    const completed = b.stripe.eventsOfType('checkout.session.completed').find((e) => (e.data.object as { id: string }).id === sessionId)!;
    b.stripe.webhooks.release({});
    b.stripe.webhooks.pause();
    const send = (payload: string, header?: string, type = 'application/json') =>
      fetch(`${b.t.url}/api/billing/webhook`, { method: 'POST', headers: { 'content-type': type, ...(header ? { 'stripe-signature': header } : {}) }, body: payload });
    const good = b.stripe.webhooks.signed(completed);
    const attempts = [
      await send(good.payload, stripeSignatureHeader(good.payload, 'whsec_someone_else')),
      await send(good.payload, stripeSignatureHeader(good.payload, STRIPE_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 301)),
      await send(good.payload),
      await send(good.payload.replace('"amount_total": 600', '"amount_total": 600000'), good.header),
      await send(JSON.stringify(JSON.parse(good.payload)), good.header),
      await send(good.payload, good.header, 'text/plain'),
    ];
    expect(attempts.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, expect.any(Number)]);
    expect(attempts[5].status).toBeGreaterThanOrEqual(400);
    expect(await attempts[0].json()).toMatchObject({ error: { code: 'invalid_body', param: 'Stripe-Signature' } });
    expect(await b.t.prisma.processedStripeEvent.count({ where: { id: completed.id } })).toBe(0);
    expect(await entries(s.tenantId, 'topup')).toHaveLength(0);
    const ok = await send(good.payload, good.header);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ received: true, outcome: 'processed' });
    b.stripe.webhooks.release({});
    await b.stripe.idle();
    expect(await entries(s.tenantId, 'topup')).toHaveLength(1);
  });

  it("keeps tenants apart: one tenant's ledger and payments are invisible to another", async () => {
    const a = await paid(5);
    const other = await b.t.signup();
    const theirs = await api(b.t, other.token).get('/api/billing/ledger');
    expect(theirs.body.data).toEqual([]);
    const mine = await api(b.t, a.token).get('/api/billing/ledger');
    expect(mine.body.data).toHaveLength(1);
    expect((await api(b.t, other.token).get('/api/billing/auto-topup')).body).toMatchObject({ has_payment_method: false, enabled: false });
  });

  it('pages the ledger newest first with an opaque cursor', async () => {
    const s = await b.t.signup();
    for (let i = 0; i < 5; i++) expect((await b.t.grant(s.tenantId, i + 1)).status).toBe(201);
    const c = api(b.t, s.token);
    const first = await c.get('/api/billing/ledger?limit=2');
    expect(first.body.data.map((e: { amount: number }) => e.amount)).toEqual([5, 4]);
    const second = await c.get(`/api/billing/ledger?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((e: { amount: number }) => e.amount)).toEqual([3, 2]);
    const third = await c.get(`/api/billing/ledger?limit=2&cursor=${second.body.next_cursor}`);
    expect(third.body).toMatchObject({ data: [expect.objectContaining({ amount: 1, kind: 'adjustment' })], next_cursor: null });
    expect((await c.get('/api/billing/ledger?cursor=!!')).status).toBe(400);
  });
});

describe('a webhook whose effects fail half-way (reliability T41)', () => {
  it('commits nothing and answers 5xx, so that Stripe delivers again; the redelivery credits once', async () => {
    const s = await b.t.signup();
    const sessionId = await checkout(b.t, s.token, 20);
    // The credit is written in the transaction, then the payment's own update fails (a database
    // that went away mid-transaction): the event id and the credit must go with it.
    const failing = jest.spyOn(PaymentTransaction.prototype, 'succeeded').mockRejectedValue(new Error('injected failure after the credit was written'));
    let pi: string;
    let failures = 0;
    try {
      pi = b.stripe.completeCheckout(sessionId, 'paid').payment_intent!;
      await b.stripe.idle();
    } finally {
      failures = failing.mock.calls.length;
      failing.mockRestore();
    }
    expect(failures).toBeGreaterThanOrEqual(1);
    const mine = b.stripe.events.filter((e) => JSON.stringify(e.data.object).includes(pi) || JSON.stringify(e.data.object).includes(sessionId));
    const crediting = mine.filter((e) => ['checkout.session.completed', 'payment_intent.succeeded'].includes(e.type));
    expect(crediting.length).toBeGreaterThanOrEqual(1);
    const answers = b.stripe.deliveries.filter((d) => crediting.some((e) => e.id === d.eventId));
    expect(answers.length).toBeGreaterThanOrEqual(crediting.length);
    expect(answers.every((d) => d.status >= 500)).toBe(true);
    expect(await b.t.prisma.processedStripeEvent.count({ where: { id: { in: crediting.map((e) => e.id) } } })).toBe(0);
    expect(await entries(s.tenantId, 'topup')).toHaveLength(0);
    expect(await ledgerSum(b.t, s.tenantId)).toBe(0n);

    b.stripe.redeliver(mine, { concurrent: true });
    await b.stripe.idle();
    const topups = await entries(s.tenantId, 'topup');
    expect(topups.map((e) => e.amountMicros)).toEqual([20_000_000n]);
    expect(await b.t.prisma.processedStripeEvent.count({ where: { id: { in: crediting.map((e) => e.id) } } })).toBe(crediting.length);
    expect((await credits(s.tenantId)).balance).toBe(20_000_000n);
    expect(await ledgerSum(b.t, s.tenantId)).toBe(20_000_000n);
  });
});

describe('a refund of credit already spent (reliability T42)', () => {
  it('takes the balance below zero, and the next request gets 402 until the tenant pays again', async () => {
    const { tenantId, apiKey, token, pi } = await paid(10);
    const chat = () =>
      fetch(`${b.t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
      });
    // Spend some of it.
    b.t.openai.enqueue({ text: 'spent', promptTokens: 1_000_000, completionTokens: 100 });
    expect((await chat()).status).toBe(200);
    const spent = 10_000_000n - (await credits(tenantId)).balance;
    expect(spent).toBeGreaterThan(0n);
    // The whole payment is refunded: what was spent is owed.
    b.stripe.refund(pi);
    await b.stripe.idle();
    await waitFor('the refund applied', async () => (await credits(tenantId)).balance < 0n);
    expect((await credits(tenantId)).balance).toBe(-spent);
    await b.t.drain();
    expect(await ledgerSum(b.t, tenantId)).toBe(-spent);
    const refused = await chat();
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('insufficient_credits');
    // Paying again covers the debt first.
    const again = await checkout(b.t, token, 20);
    b.stripe.completeCheckout(again, 'paid');
    await b.stripe.idle();
    await waitFor('the new payment applied', async () => (await credits(tenantId)).balance > 0n);
    expect((await credits(tenantId)).balance).toBe(20_000_000n - spent);
    b.t.openai.enqueue({ text: 'served again' });
    expect((await chat()).status).toBe(200);
  });
});
