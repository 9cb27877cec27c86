import type { Stripe } from '../stripe/stripe.client';
import { applyDispute, centsToMicros, creditKeyOf, creditPayment, debitRefunds, factsOf } from './payment-effects';

const intent = (over: Partial<Stripe.PaymentIntent>): Stripe.PaymentIntent =>
  ({ id: 'pi_1', object: 'payment_intent', amount: 2500, amount_received: 2500, currency: 'usd', status: 'succeeded', latest_charge: 'ch_1', metadata: {}, ...over }) as Stripe.PaymentIntent;

describe('payment facts from a PaymentIntent', () => {
  it('reads the tenant, kind and amount received from a Checkout top-up', () => {
    const f = factsOf(intent({ metadata: { tenant_id: 'ten_a', payment_id: 'pay_1', kind: 'topup' } }), 'cs_1');
    expect(f).toEqual({ id: 'pi_1', tenantId: 'ten_a', kind: 'topup', paymentId: 'pay_1', crossingSeq: undefined, checkoutSessionId: 'cs_1', chargeId: 'ch_1', amountMicros: 25_000_000n, succeeded: true });
    expect(creditKeyOf(f!)).toBe('topup:pi_1');
  });

  it('keys an auto top-up by its crossing, whatever intent paid it', () => {
    const f = factsOf(intent({ id: 'pi_9', metadata: { tenant_id: 'ten_a', kind: 'auto_topup', crossing_seq: '7' }, latest_charge: { id: 'ch_9' } as Stripe.Charge }))!;
    expect(f).toMatchObject({ kind: 'auto_topup', crossingSeq: 7n, chargeId: 'ch_9' });
    expect(creditKeyOf(f)).toBe('autotopup:ten_a:7');
  });

  it('ignores intents that are not ours or not in USD, and reports unsucceeded ones as such', () => {
    expect(factsOf(intent({ metadata: {} }))).toBeNull();
    expect(factsOf(intent({ currency: 'eur', metadata: { tenant_id: 'ten_a' } }))).toBeNull();
    expect(factsOf(intent({ metadata: { tenant_id: 'ten_a', kind: 'auto_topup', crossing_seq: 'x' } }))).toBeNull();
    expect(factsOf(intent({ status: 'processing', amount_received: 0, metadata: { tenant_id: 'ten_a' } }))).toMatchObject({ succeeded: false, amountMicros: 0n });
  });

  it('converts cents to micros exactly', () => {
    expect(centsToMicros(1)).toBe(10_000n);
    expect(centsToMicros(99_999_999)).toBe(999_999_990_000n);
  });
});

/** The ledger side of a PaymentTransaction, in memory: entries by key, payments by intent. */
class MemoryLedger {
  readonly entries = new Map<string, { amountMicros: bigint; description: string | null }>();
  readonly attempts = new Map<string, string>();
  appendEntry(_tenantId: string, input: { amountMicros: bigint; idempotencyKey: string; description?: string }) {
    const existing = this.entries.get(input.idempotencyKey);
    if (existing) return Promise.resolve({ entry: existing, created: false });
    const entry = { amountMicros: input.amountMicros, description: input.description ?? null };
    this.entries.set(input.idempotencyKey, entry);
    return Promise.resolve({ entry, created: true });
  }
  hasEntry(key: string) {
    return Promise.resolve(this.entries.has(key));
  }
  findPayment() {
    return Promise.resolve(null);
  }
  succeeded() {
    return Promise.resolve({});
  }
  autoTopupSucceeded(tenantId: string, crossingSeq: bigint, paymentIntentId: string) {
    this.attempts.set(`${tenantId}:${crossingSeq}`, paymentIntentId);
    return Promise.resolve();
  }
  sum(): bigint {
    let s = 0n;
    for (const e of this.entries.values()) s += e.amountMicros;
    return s;
  }
}

describe('refunds and disputes in any order', () => {
  const tx = () => new MemoryLedger();
  const as = (m: MemoryLedger) => m as unknown as Parameters<typeof debitRefunds>[0];
  const topup = factsOf(intent({ metadata: { tenant_id: 'ten_a', kind: 'topup' } }))!;

  it('a refund that failed, seen before a stale delivery that read it as succeeded, stays given back', async () => {
    const m = tx();
    const refund = { id: 're_1', amountMicros: 10_000_000n };
    await debitRefunds(as(m), topup, [], [refund]);
    await debitRefunds(as(m), topup, [refund], []);
    expect(m.sum()).toBe(25_000_000n);
    expect([...m.entries.keys()]).toEqual(['topup:pi_1', 'refund:re_1', 'refund_failed:re_1']);
  });

  it('a dispute won before its withdrawal was seen nets to zero, and the late withdrawal takes nothing', async () => {
    const m = tx();
    const d = { id: 'du_1', amountMicros: 5_000_000n };
    await applyDispute(as(m), topup, d, true);
    await applyDispute(as(m), topup, d, false);
    await applyDispute(as(m), topup, d, true);
    expect(m.sum()).toBe(25_000_000n);
    const lost = tx();
    await applyDispute(as(lost), topup, d, false);
    expect(lost.sum()).toBe(20_000_000n);
  });

  it('a second payment for one auto top-up crossing credits nothing, and its refund or dispute takes nothing back', async () => {
    const m = tx();
    const meta = { tenant_id: 'ten_a', kind: 'auto_topup', crossing_seq: '3' };
    const first = factsOf(intent({ id: 'pi_first', amount_received: 1500, metadata: meta }))!;
    const second = factsOf(intent({ id: 'pi_second', amount_received: 1500, metadata: meta }))!;
    expect(await creditPayment(as(m), first)).toEqual({ created: true, paidByThis: true });
    expect(await creditPayment(as(m), second)).toEqual({ created: false, paidByThis: false });
    expect(await creditPayment(as(m), first)).toEqual({ created: false, paidByThis: true });
    expect(m.attempts.get('ten_a:3')).toBe('pi_first');
    await debitRefunds(as(m), second, [{ id: 're_2', amountMicros: 15_000_000n }]);
    await applyDispute(as(m), second, { id: 'du_2', amountMicros: 15_000_000n }, false);
    expect(m.sum()).toBe(15_000_000n);
    await debitRefunds(as(m), first, [{ id: 're_1', amountMicros: 15_000_000n }]);
    expect(m.sum()).toBe(0n);
  });
});
