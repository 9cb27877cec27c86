import { AutoTopupCharger } from '@gw/billing';
import { AutoTopupTrigger } from '@gw/billing/worker';
import { AutoTopupRepository, tenantScope } from '@gw/db';
import { costMicros } from '@gw/metering';
import { api, checkout, ledgerSum, startBillingApp, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, waitFor, type BillingApp } from './support/billing';
import { startTestApp, type TestApp } from './support/test-app';

let b: BillingApp;

beforeAll(async () => {
  b = await startBillingApp();
});
afterAll(async () => {
  await b?.close();
});
afterEach(async () => {
  b.stripe.declineNext(0);
  await b.stripe.idle();
});

/** A tenant that paid `usd` through Checkout with its card saved, auto top-up on. */
async function withAutoTopup(usd: number, threshold: number, amount: number) {
  const s = await b.t.signup();
  const sessionId = await checkout(b.t, s.token, usd, true);
  b.stripe.completeCheckout(sessionId, 'paid', `pm_${s.tenantId}`);
  await b.stripe.idle();
  const put = await api(b.t, s.token).put('/api/billing/auto-topup', { enabled: true, threshold, amount });
  expect(put.status).toBe(200);
  return s;
}

const autoTopupIntents = (tenantId: string) => b.stripe.paymentIntents().filter((pi) => pi.metadata.kind === 'auto_topup' && pi.metadata.tenant_id === tenantId);
const topups = (tenantId: string) => b.t.prisma.ledgerEntry.findMany({ where: { tenantId, kind: 'topup' }, orderBy: { id: 'asc' } });
const balance = async (tenantId: string) => (await b.t.credits.getCredits(tenantId))!.balance;

/** 6000 output tokens of gpt-4o: 0.06 USD each. */
function spend(apiKey: string, n: number) {
  b.t.openai.setDefaults({ completionTokens: 6000, promptTokens: 10 });
  return Promise.all(
    Array.from({ length: n }, () =>
      fetch(`${b.t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o', max_tokens: 6000, messages: [{ role: 'user', content: 'hi' }] }),
      }).then(async (r) => (await r.text(), r.status)),
    ),
  );
}

describe('GET/PUT /api/billing/auto-topup', () => {
  it('needs a saved card to enable, validates amounts, and shows the state', async () => {
    const s = await b.t.signup();
    const c = api(b.t, s.token);
    expect((await c.get('/api/billing/auto-topup')).body).toEqual({ enabled: false, threshold: null, amount: null, has_payment_method: false, consecutive_failures: 0, last_attempt: null });
    const refused = await c.put('/api/billing/auto-topup', { enabled: true, threshold: 5, amount: 20 });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_body', param: 'enabled' });
    expect((await c.put('/api/billing/auto-topup', { enabled: false, threshold: 5, amount: 20 })).status).toBe(200);

    const sessionId = await checkout(b.t, s.token, 5, true);
    b.stripe.completeCheckout(sessionId, 'paid', 'pm_saved_card');
    await b.stripe.idle();
    expect(await b.t.prisma.stripeCustomer.findUnique({ where: { tenantId: s.tenantId } })).toMatchObject({ paymentMethodId: 'pm_saved_card' });
    expect((await c.put('/api/billing/auto-topup', { enabled: true, threshold: 5, amount: 0.5 })).body.error).toMatchObject({ param: 'amount' });
    expect((await c.put('/api/billing/auto-topup', { enabled: true, threshold: -1, amount: 20 })).status).toBe(400);
    const ok = await c.put('/api/billing/auto-topup', { enabled: true, threshold: 2.5, amount: 20 });
    expect(ok.body).toEqual({ enabled: true, threshold: 2.5, amount: 20, has_payment_method: true, consecutive_failures: 0, last_attempt: null });
  });

  it('does not save the card unless the tenant opted in', async () => {
    const s = await b.t.signup();
    b.stripe.completeCheckout(await checkout(b.t, s.token, 5, false), 'paid');
    await b.stripe.idle();
    expect((await api(b.t, s.token).get('/api/billing/auto-topup')).body.has_payment_method).toBe(false);
  });
});

describe('auto top-up', () => {
  it('charges once for one crossing under 20 concurrent low-balance triggers on two instances', async () => {
    const other: TestApp = await startTestApp({ STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE: b.stripe.baseUrl, AUTO_TOPUP_RETRY_DELAY_MS: '20' });
    try {
      const s = await withAutoTopup(6, 5, 10);
      expect(await balance(s.tenantId)).toBe(6_000_000n);
      // 20 requests at 0.06 USD take the balance from 6 to 4.80, below the 5 USD threshold.
      const statuses = await spend(s.apiKey, 20);
      expect(statuses.every((x) => x === 200)).toBe(true);
      const triggers = [b.t.app.get(AutoTopupTrigger), other.app.get(AutoTopupTrigger)];
      await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => triggers[i % 2].check([s.tenantId])),
        b.t.drain(),
        other.drain(),
      ]);
      await waitFor('the auto top-up credit', async () => (await topups(s.tenantId)).length === 2);
      await new Promise((r) => setTimeout(r, 300));
      const intents = autoTopupIntents(s.tenantId);
      expect(intents).toHaveLength(1);
      expect(intents[0]).toMatchObject({ status: 'succeeded', amount: 1000, metadata: { crossing_seq: '1' } });
      expect(b.stripe.requests.filter((r) => r.path === '/v1/payment_intents' && r.method === 'POST' && (r.params.metadata as Record<string, string>)?.tenant_id === s.tenantId).map((r) => r.idempotencyKey)).toEqual([
        `autotopup:${s.tenantId}:1`,
      ]);
      const credits = (await topups(s.tenantId)).map((e) => [e.idempotencyKey, e.amountMicros]);
      expect(credits[1]).toEqual([`autotopup:${s.tenantId}:1`, 10_000_000n]);
      expect(await b.t.prisma.autoTopupAttempt.findMany({ where: { tenantId: s.tenantId } })).toEqual([expect.objectContaining({ crossingSeq: 1n, status: 'succeeded', attempts: 0 })]);
      await b.t.drain();
      const m = await b.t.prisma.catalogModel.findUniqueOrThrow({ where: { id: 'openai/gpt-4o' } });
      const each = costMicros({ promptTokens: 10, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 6000, reasoningTokens: 0 }, { input: m.inputPrice, output: m.outputPrice, cacheRead: m.cacheReadPrice, cacheWrite: m.cacheWritePrice }, 0n);
      expect(await balance(s.tenantId)).toBe(6_000_000n - 20n * each + 10_000_000n);
      expect(await ledgerSum(b.t, s.tenantId)).toBe(await balance(s.tenantId));
      // Above the threshold again: more triggers open nothing.
      expect(await triggers[1].check([s.tenantId])).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('retries a declined charge with backoff under a new key, and credits the one that succeeds', async () => {
    const s = await withAutoTopup(5, 10, 15);
    b.stripe.declineNext(1);
    expect(await b.t.app.get(AutoTopupTrigger).check([s.tenantId])).toBe(1);
    await waitFor('the credit after one decline', async () => (await topups(s.tenantId)).length === 2);
    const keys = b.stripe.requests.filter((r) => r.path === '/v1/payment_intents' && (r.params.metadata as Record<string, string>)?.tenant_id === s.tenantId).map((r) => r.idempotencyKey);
    expect(keys).toEqual([`autotopup:${s.tenantId}:1`, `autotopup:${s.tenantId}:1:retry1`]);
    expect(await b.t.prisma.autoTopupAttempt.findFirst({ where: { tenantId: s.tenantId } })).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await b.t.prisma.tenant.findUnique({ where: { id: s.tenantId } })).toMatchObject({ autoTopupEnabled: true, autoTopupFailures: 0 });
    // The credit is in the ledger first and reaches Redis just after (the sequence-guarded push).
    await waitFor('the credit in Redis', async () => (await balance(s.tenantId)) === 20_000_000n);
    expect(await ledgerSum(b.t, s.tenantId)).toBe(20_000_000n);
  });

  it('switches auto top-up off after three consecutive declines and emails the tenant', async () => {
    const s = await withAutoTopup(5, 10, 15);
    b.stripe.declineNext(Infinity);
    expect(await b.t.app.get(AutoTopupTrigger).check([s.tenantId])).toBe(1);
    const tenant = await waitFor('auto top-up switched off', async () => {
      const t = await b.t.prisma.tenant.findUnique({ where: { id: s.tenantId } });
      return t && !t.autoTopupEnabled && t;
    });
    expect(tenant.autoTopupFailures).toBe(3);
    expect(autoTopupIntents(s.tenantId).map((pi) => pi.status)).toEqual(['requires_payment_method', 'requires_payment_method', 'requires_payment_method']);
    expect(await b.t.prisma.autoTopupAttempt.findFirst({ where: { tenantId: s.tenantId } })).toMatchObject({ status: 'failed', attempts: 3 });
    expect(await topups(s.tenantId)).toHaveLength(1);
    const owner = await b.t.prisma.user.findFirstOrThrow({ where: { tenantId: s.tenantId } });
    const mail = await waitFor('the email', () => b.t.prisma.emailOutbox.findFirst({ where: { to: owner.email, subject: 'Auto top-up was turned off' } }));
    expect(mail.body).toContain('15.00 USD');
    // Nothing more happens while it is off, and turning it on again starts a fresh count.
    expect(await b.t.app.get(AutoTopupTrigger).check([s.tenantId])).toBe(0);
    const view = await api(b.t, s.token).put('/api/billing/auto-topup', { enabled: true, threshold: 10, amount: 15 });
    expect(view.body).toMatchObject({ enabled: true, consecutive_failures: 0, last_attempt: { status: 'failed', declines: 3 } });
  });

  it('charges once when the answer is lost and the job retries, and when a job runs twice at once', async () => {
    const s = await withAutoTopup(5, 10, 12);
    b.stripe.failNext(2, 'drop');
    expect(await b.t.app.get(AutoTopupTrigger).check([s.tenantId])).toBe(1);
    await waitFor('the credit after a lost answer', async () => (await topups(s.tenantId)).length === 2);
    expect(autoTopupIntents(s.tenantId)).toHaveLength(1);

    // A stalled job re-run while the first run is still charging: same crossing, same key.
    const t2 = await b.t.signup();
    const sessionId = await checkout(b.t, t2.token, 5, true);
    b.stripe.completeCheckout(sessionId, 'paid', `pm_${t2.tenantId}`);
    await b.stripe.idle();
    const repo = b.t.app.get(AutoTopupRepository);
    await api(b.t, t2.token).put('/api/billing/auto-topup', { enabled: true, threshold: 1, amount: 7 });
    const attempt = (await repo.openCrossing(tenantScope(t2.tenantId), 0n))!;
    const charger = b.t.app.get(AutoTopupCharger);
    const runs = await Promise.all([1, 2, 3].map(() => charger.run({ tenantId: t2.tenantId, crossingSeq: attempt.crossingSeq.toString() })));
    expect(runs).toContain('credited');
    expect(autoTopupIntents(t2.tenantId)).toHaveLength(1);
    expect((await topups(t2.tenantId)).map((e) => e.amountMicros)).toEqual([5_000_000n, 7_000_000n]);
    expect(await balance(t2.tenantId)).toBe(12_000_000n);
  });

  it('does not charge when one top-up cannot reach the threshold (a refund or chargeback took the balance far below), so it never charges every scan', async () => {
    const s = await withAutoTopup(5, 5, 20);
    // 5 - 40 = -35: a 20 USD top-up would leave -15, still under the threshold.
    expect((await b.t.grant(s.tenantId, -40)).status).toBe(201);
    const trigger = b.t.app.get(AutoTopupTrigger);
    for (let i = 0; i < 3; i++) {
      expect(await trigger.check([s.tenantId])).toBe(0);
      await trigger.scan();
    }
    expect(autoTopupIntents(s.tenantId)).toHaveLength(0);
    expect(await b.t.prisma.autoTopupAttempt.count({ where: { tenantId: s.tenantId } })).toBe(0);
    // Once one top-up can restore it (here -5 + 20 = 15), one crossing charges once.
    expect((await b.t.grant(s.tenantId, 30)).status).toBe(201);
    expect(await trigger.check([s.tenantId])).toBe(1);
    await waitFor('the credit', async () => (await topups(s.tenantId)).length === 2);
    await waitFor('the credit in Redis', async () => (await balance(s.tenantId)) === 15_000_000n);
    expect(await trigger.check([s.tenantId])).toBe(0);
    expect(autoTopupIntents(s.tenantId)).toHaveLength(1);

    // An amount under the threshold (which would climb there charge by charge) is refused.
    const refused = await api(b.t, s.token).put('/api/billing/auto-topup', { enabled: true, threshold: 30, amount: 20 });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'invalid_body', param: 'amount' });
  });

  it('a processing payment (bank debit) is waited for, never charged again; one that fails is a decline and charged anew; a lost webhook is read from Stripe', async () => {
    const s = await withAutoTopup(5, 10, 15);
    const trigger = b.t.app.get(AutoTopupTrigger);
    const attempt = () => b.t.prisma.autoTopupAttempt.findFirstOrThrow({ where: { tenantId: s.tenantId }, orderBy: { crossingSeq: 'desc' } });
    b.stripe.processNext(1);
    expect(await trigger.check([s.tenantId])).toBe(1);
    await waitFor('the attempt processing', async () => (await attempt()).status === 'processing');
    for (let i = 0; i < 3; i++) {
      await trigger.scan();
      expect(await trigger.check([s.tenantId])).toBe(0);
    }
    expect(autoTopupIntents(s.tenantId)).toHaveLength(1);
    // The debit comes back: one decline, and the crossing is charged again under its next key.
    b.stripe.settleIntent(autoTopupIntents(s.tenantId)[0].id, false);
    await b.stripe.idle();
    expect(await attempt()).toMatchObject({ status: 'pending', attempts: 1 });
    expect((await b.t.prisma.tenant.findUniqueOrThrow({ where: { id: s.tenantId } })).autoTopupFailures).toBe(1);
    await trigger.scan();
    await waitFor('the credit of the second charge', async () => (await topups(s.tenantId)).length === 2);
    expect(await attempt()).toMatchObject({ status: 'succeeded', attempts: 1 });
    const keys = b.stripe.requests.filter((r) => r.path === '/v1/payment_intents' && (r.params.metadata as Record<string, string>)?.tenant_id === s.tenantId).map((r) => r.idempotencyKey);
    expect(keys).toEqual([`autotopup:${s.tenantId}:1`, `autotopup:${s.tenantId}:1:retry1`]);
    expect(await ledgerSum(b.t, s.tenantId)).toBe(20_000_000n);

    // Spend under the threshold again; this time the debit's webhook never arrives.
    expect((await b.t.grant(s.tenantId, -12)).status).toBe(201);
    b.stripe.processNext(1);
    expect(await trigger.check([s.tenantId])).toBe(1);
    await waitFor('the second crossing processing', async () => (await attempt()).status === 'processing');
    b.stripe.setDelivery({ lost: true });
    try {
      b.stripe.settleIntent(autoTopupIntents(s.tenantId)[2].id, true);
      await b.stripe.idle();
    } finally {
      b.stripe.setDelivery({});
    }
    expect(await b.t.app.get(AutoTopupCharger).checkProcessing(await attempt())).toBe('credited');
    expect(await attempt()).toMatchObject({ status: 'succeeded', crossingSeq: 2n });
    expect(await ledgerSum(b.t, s.tenantId)).toBe(23_000_000n);
    expect(autoTopupIntents(s.tenantId)).toHaveLength(3);
  });

  it('a refund or chargeback of a second payment for one crossing (never credited) takes no credit back', async () => {
    const s = await withAutoTopup(5, 10, 15);
    expect(await b.t.app.get(AutoTopupTrigger).check([s.tenantId])).toBe(1);
    await waitFor('the credit', async () => (await topups(s.tenantId)).length === 2);
    await b.stripe.idle();
    const before = await ledgerSum(b.t, s.tenantId);
    // A second intent for the same crossing (what a resend after Stripe forgot the key would make).
    const customer = await b.t.prisma.stripeCustomer.findUniqueOrThrow({ where: { tenantId: s.tenantId } });
    const form = new URLSearchParams({
      amount: '1500',
      currency: 'usd',
      customer: customer.customerId,
      payment_method: customer.paymentMethodId!,
      confirm: 'true',
      off_session: 'true',
      'metadata[tenant_id]': s.tenantId,
      'metadata[kind]': 'auto_topup',
      'metadata[crossing_seq]': '1',
    });
    const created = await fetch(`${b.stripe.baseUrl}/v1/payment_intents`, { method: 'POST', headers: { authorization: `Bearer ${STRIPE_SECRET_KEY}`, 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const second = ((await created.json()) as { id: string; status: string });
    expect(second.status).toBe('succeeded');
    await b.stripe.idle();
    expect(await ledgerSum(b.t, s.tenantId)).toBe(before);
    b.stripe.refund(second.id, 1000);
    b.stripe.dispute(second.id, 500);
    await b.stripe.idle();
    expect(await ledgerSum(b.t, s.tenantId)).toBe(before);
    const first = autoTopupIntents(s.tenantId).find((pi) => pi.id !== second.id)!;
    expect(await b.t.prisma.autoTopupAttempt.findFirst({ where: { tenantId: s.tenantId } })).toMatchObject({ status: 'succeeded', paymentIntentId: first.id });
    // A refund of the payment that was credited still takes it back.
    b.stripe.refund(first.id, 1500);
    await b.stripe.idle();
    expect(await ledgerSum(b.t, s.tenantId)).toBe(before - 15_000_000n);
  });

  it('cancels a pending crossing when the tenant turned auto top-up off meanwhile', async () => {
    const s = await withAutoTopup(5, 1, 7);
    const attempt = (await b.t.app.get(AutoTopupRepository).openCrossing(tenantScope(s.tenantId), 0n))!;
    await api(b.t, s.token).put('/api/billing/auto-topup', { enabled: false, threshold: 1, amount: 7 });
    expect(await b.t.app.get(AutoTopupCharger).run({ tenantId: s.tenantId, crossingSeq: attempt.crossingSeq.toString() })).toBe('canceled');
    expect(autoTopupIntents(s.tenantId)).toHaveLength(0);
  });
});
