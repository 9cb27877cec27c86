import type { Stripe } from '../stripe/stripe.client';
import { centsToMicros, creditKeyOf, factsOf } from './payment-effects';

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
