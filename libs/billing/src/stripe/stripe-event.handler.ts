import { Injectable, Logger } from '@nestjs/common';
import { PaymentRepository, type PaymentTransaction } from '@gw/db';
import { CreditSync } from '../ledger/credit-sync.service';
import { applyDispute, centsToMicros, creditPayment, debitRefunds, factsOf, failureReasonOf, idOf, type IntentFacts } from '../topup/payment-effects';
import { StripeClient, type Stripe } from './stripe.client';

export type WebhookOutcome = 'processed' | 'duplicate' | 'ignored';

/** An event's database effects, decided (with any Stripe reads) before the transaction opens. */
interface Plan {
  tenants: string[];
  apply(tx: PaymentTransaction): Promise<unknown>;
}

const CHECKOUT_STATUS = {
  'checkout.session.async_payment_failed': 'failed',
  'checkout.session.expired': 'expired',
} as const;

/**
 * Applies verified Stripe events exactly once, whatever their order, duplication or delay:
 * - the event id is inserted in `processed_stripe_events` in the same transaction as the effects,
 *   so concurrent deliveries of one event apply it once (the others wait on the row, then skip);
 * - every money effect is keyed (`topup:<intent>`, `autotopup:<tenant>:<crossing>`,
 *   `refund:<refund>`, `dispute:<dispute>`), so different events about one payment credit it once;
 * - state that order could garble is re-read from Stripe (the intent behind a session, a charge or a
 *   dispute; the refunds of a charge), and a refund or dispute that overtakes the payment's own
 *   events credits the payment first.
 * After the commit the tenant's new entries are pushed to Redis (CreditSync).
 */
@Injectable()
export class StripeEventHandler {
  private readonly logger = new Logger('stripe-events');

  constructor(
    private readonly stripe: StripeClient,
    private readonly payments: PaymentRepository,
    private readonly sync: CreditSync,
  ) {}

  async handle(event: Stripe.Event): Promise<WebhookOutcome> {
    if (await this.payments.isEventProcessed(event.id)) return 'duplicate';
    const plan = await this.plan(event);
    const outcome = await this.payments.transaction(async (tx): Promise<WebhookOutcome> => {
      if (!(await tx.recordEvent(event.id, event.type))) return 'duplicate';
      if (!plan) return 'ignored';
      await plan.apply(tx);
      return 'processed';
    });
    if (outcome === 'processed') for (const tenantId of plan!.tenants) await this.sync.sync(tenantId);
    return outcome;
  }

  private async plan(event: Stripe.Event): Promise<Plan | null> {
    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded':
        return this.sessionPaid(event.data.object);
      case 'checkout.session.async_payment_failed':
      case 'checkout.session.expired': {
        const s = event.data.object;
        return { tenants: [], apply: (tx) => tx.setCheckoutStatus(s.id, CHECKOUT_STATUS[event.type]) };
      }
      case 'payment_intent.succeeded': {
        const f = factsOf(event.data.object);
        return f ? { tenants: [f.tenantId], apply: (tx) => creditPayment(tx, f) } : null;
      }
      case 'payment_intent.payment_failed':
      case 'payment_intent.canceled': {
        // An auto top-up whose payment was processing (a bank debit) and failed: one decline, and
        // the crossing is charged again under its next key. A card declined at once was counted
        // when the charge answered (its attempt never waited), so this finds nothing to do.
        const pi = event.data.object;
        const f = factsOf(pi);
        if (!f || f.kind !== 'auto_topup') return null;
        return { tenants: [], apply: (tx) => tx.autoTopupPaymentFailed(f.tenantId, f.crossingSeq!, pi.id, failureReasonOf(pi)) };
      }
      case 'charge.refunded':
        return this.refunds(event.data.object.payment_intent, event.data.object.id);
      case 'refund.created':
      case 'refund.updated':
      case 'refund.failed':
        return this.refunds(event.data.object.payment_intent, idOf(event.data.object.charge));
      case 'charge.dispute.created':
      case 'charge.dispute.funds_withdrawn':
      case 'charge.dispute.closed':
      case 'charge.dispute.funds_reinstated': {
        const d = event.data.object;
        // An inquiry (warning_*) withdraws no funds: nothing to debit until funds_withdrawn says so.
        if (event.type === 'charge.dispute.created' && d.status.startsWith('warning_')) return null;
        const won = event.type === 'charge.dispute.funds_reinstated' || event.type === 'charge.dispute.closed';
        if (event.type === 'charge.dispute.closed' && d.status !== 'won') return null;
        const f = await this.intentFacts(d.payment_intent);
        if (!f) return null;
        const dispute = { id: d.id, amountMicros: centsToMicros(d.amount) };
        return { tenants: [f.tenantId], apply: (tx) => applyDispute(tx, f, dispute, won) };
      }
      default:
        return null;
    }
  }

  private async sessionPaid(s: Stripe.Checkout.Session): Promise<Plan | null> {
    if (s.mode !== 'payment') return null;
    if (s.payment_status !== 'paid') {
      // A delayed payment method: the money arrives with async_payment_succeeded (or never).
      return { tenants: [], apply: (tx) => tx.setCheckoutStatus(s.id, 'processing') };
    }
    const pi = await this.intent(s.payment_intent);
    const f = pi ? factsOf(pi, s.id) : null;
    if (!pi || !f?.succeeded) return null;
    const customerId = idOf(s.customer);
    const card = s.metadata?.save_card === 'true' ? idOf(pi.payment_method) : null;
    return {
      tenants: [f.tenantId],
      apply: async (tx) => {
        await creditPayment(tx, f);
        if (card && customerId) await tx.savePaymentMethod(f.tenantId, customerId, card);
      },
    };
  }

  private async refunds(intent: string | Stripe.PaymentIntent | null, chargeId: string | null): Promise<Plan | null> {
    const f = await this.intentFacts(intent);
    if (!f || !chargeId) return null;
    // Only refunds that moved money; a pending one is debited when its refund.updated says so,
    // and a failed or canceled one is given back if it had been debited.
    const all = (await this.stripe.listRefunds(chargeId)).map((r) => ({ id: r.id, status: r.status, amountMicros: centsToMicros(r.amount) }));
    const refunds = all.filter((r) => r.status === 'succeeded');
    const failed = all.filter((r) => r.status === 'failed' || r.status === 'canceled');
    return { tenants: [f.tenantId], apply: (tx) => debitRefunds(tx, f, refunds, failed) };
  }

  private async intentFacts(intent: string | Stripe.PaymentIntent | null): Promise<IntentFacts | null> {
    const pi = await this.intent(intent);
    return pi ? factsOf(pi) : null;
  }

  private async intent(intent: string | Stripe.PaymentIntent | null): Promise<Stripe.PaymentIntent | null> {
    const id = idOf(intent);
    if (!id) return null;
    const pi = await this.stripe.retrievePaymentIntent(id);
    if (!pi.metadata?.tenant_id) this.logger.warn(`payment ${id} carries no tenant: ignored`);
    return pi;
  }
}
