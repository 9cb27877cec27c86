import { bool, int, str, stringMap, type FormObject } from './form';
import {
  nowSeconds,
  snapshot,
  stripeId,
  type FakeCharge,
  type FakeCheckoutSession,
  type FakeCustomer,
  type FakeDispute,
  type FakePaymentIntent,
  type FakeRefund,
  type FakeStripeEvent,
  type FakeStripeObject,
  type Metadata,
} from './fake-stripe.objects';

export const FAKE_STRIPE_API_VERSION = '2026-10-28.endive';

/** A Stripe API error: the HTTP status and Stripe's `{error: {...}}` body. */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error: Record<string, unknown> },
  ) {
    super(String(body.error.message ?? 'stripe error'));
  }
}

const invalid = (message: string, param?: string) => new StripeApiError(400, { error: { type: 'invalid_request_error', message, ...(param ? { param } : {}) } });
const missing = (what: string, id: string) =>
  new StripeApiError(404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}: '${id}'` } });

/** A Stripe test payment method that every charge declines (as in Stripe's test mode). */
export const DECLINING_PAYMENT_METHOD = 'pm_card_chargeDeclined';

export type CheckoutOutcome = 'paid' | 'unpaid' | 'expired';

/**
 * The fake's Stripe account: objects, their transitions and the events each transition emits
 * (handed to `emit` as one batch per action, in Stripe's usual order).
 */
export class FakeStripeState {
  readonly customers = new Map<string, FakeCustomer>();
  readonly sessions = new Map<string, FakeCheckoutSession>();
  readonly paymentIntents = new Map<string, FakePaymentIntent>();
  readonly charges = new Map<string, FakeCharge>();
  readonly refunds = new Map<string, FakeRefund>();
  readonly disputes = new Map<string, FakeDispute>();
  readonly events: FakeStripeEvent[] = [];
  /** Payment methods saved on each customer (by a Checkout with setup_future_usage). */
  private readonly savedMethods = new Map<string, Set<string>>();
  private readonly sessionIntentData = new Map<string, { metadata: Metadata; setupFutureUsage: string | null }>();
  private declines = { remaining: 0, code: 'card_declined', declineCode: 'generic_decline' };
  /** Confirmations still to answer `processing` (a bank debit that settles days later). */
  private processing = 0;

  constructor(
    private readonly emit: (events: FakeStripeEvent[]) => void,
    private readonly baseUrl: () => string,
  ) {}

  /** The next `n` confirmations are left `processing`, as a bank debit is, until `settleIntent`. */
  processNext(n: number): void {
    this.processing = n;
  }

  /** A processing intent's payment settles: it succeeds, or fails (`payment_intent.payment_failed`). */
  settleIntent(id: string, succeeded: boolean): FakePaymentIntent {
    const pi = this.paymentIntents.get(id);
    if (!pi || pi.status !== 'processing') throw invalid(`PaymentIntent ${id} is not processing.`);
    if (succeeded) {
      const charge = this.succeed(pi);
      this.batch([['payment_intent.succeeded', pi], ['charge.succeeded', charge]]);
    } else {
      pi.status = 'requires_payment_method';
      pi.last_payment_error = { type: 'card_error', code: 'payment_method_provider_decline', message: 'The payment failed.' };
      this.batch([['payment_intent.payment_failed', pi]]);
    }
    return pi;
  }

  /** The next `n` confirmations decline (`Infinity`: all of them, 0: none). */
  declineNext(n: number, declineCode = 'insufficient_funds'): void {
    this.declines = { remaining: n, code: 'card_declined', declineCode };
  }

  createCustomer(p: FormObject): FakeCustomer {
    const c: FakeCustomer = { id: stripeId('cus'), object: 'customer', created: nowSeconds(), email: str(p.email) ?? null, metadata: stringMap(p.metadata), livemode: false };
    this.customers.set(c.id, c);
    this.batch([['customer.created', c]]);
    return c;
  }

  createCheckoutSession(p: FormObject): FakeCheckoutSession {
    const mode = str(p.mode);
    if (mode !== 'payment') throw invalid('The fake supports mode=payment only.', 'mode');
    const items = Array.isArray(p.line_items) ? p.line_items : [];
    if (items.length === 0) throw invalid('line_items is required in payment mode.', 'line_items');
    let amount = 0;
    let currency = 'usd';
    for (const item of items) {
      const it = item as FormObject;
      const pd = (it.price_data ?? {}) as FormObject;
      const unit = int(pd.unit_amount);
      if (unit === undefined || unit < 0) throw invalid('line_items[].price_data.unit_amount is required.', 'line_items');
      currency = str(pd.currency) ?? currency;
      amount += unit * (int(it.quantity) ?? 1);
    }
    const customer = str(p.customer) ?? null;
    if (customer && !this.customers.has(customer)) throw missing('customer', customer);
    const id = stripeId('cs_test');
    const s: FakeCheckoutSession = {
      id,
      object: 'checkout.session',
      created: nowSeconds(),
      mode,
      status: 'open',
      payment_status: 'unpaid',
      amount_total: amount,
      amount_subtotal: amount,
      currency,
      customer,
      client_reference_id: str(p.client_reference_id) ?? null,
      metadata: stringMap(p.metadata),
      payment_intent: null,
      success_url: str(p.success_url) ?? null,
      cancel_url: str(p.cancel_url) ?? null,
      url: `${this.baseUrl()}/checkout/${id}`,
      livemode: false,
    };
    const pid = (p.payment_intent_data ?? {}) as FormObject;
    this.sessionIntentData.set(id, { metadata: stringMap(pid.metadata), setupFutureUsage: str(pid.setup_future_usage) ?? null });
    this.sessions.set(id, s);
    return s;
  }

  /** POST /v1/payment_intents. With confirm=true it charges at once (or declines, 402). */
  createPaymentIntent(p: FormObject): FakePaymentIntent {
    const amount = int(p.amount);
    if (amount === undefined || amount < 50) throw invalid('Amount must be at least 50 cents.', 'amount');
    const customer = str(p.customer) ?? null;
    if (customer && !this.customers.has(customer)) throw missing('customer', customer);
    const pm = str(p.payment_method) ?? null;
    const pi = this.newIntent(amount, str(p.currency) ?? 'usd', customer, pm, stringMap(p.metadata), str(p.setup_future_usage) ?? null);
    pi.off_session = bool(p.off_session) || undefined;
    if (!bool(p.confirm)) return pi;
    if (!pm) throw invalid('You cannot confirm this PaymentIntent because it has no payment method.', 'payment_method');
    if (customer && pm !== DECLINING_PAYMENT_METHOD && !this.savedMethods.get(customer)?.has(pm)) {
      throw invalid(`The PaymentMethod ${pm} is not attached to customer ${customer}.`, 'payment_method');
    }
    if (pm === DECLINING_PAYMENT_METHOD || this.takeDecline()) {
      pi.status = 'requires_payment_method';
      pi.last_payment_error = { type: 'card_error', code: 'card_declined', decline_code: this.declines.declineCode, message: 'Your card was declined.' };
      this.batch([['payment_intent.payment_failed', pi]]);
      throw new StripeApiError(402, {
        error: { ...pi.last_payment_error, payment_intent: snapshot(pi), request_log_url: null },
      });
    }
    if (this.processing > 0) {
      this.processing--;
      pi.status = 'processing';
      this.batch([['payment_intent.processing', pi]]);
      return pi;
    }
    const charge = this.succeed(pi);
    this.batch([['payment_intent.succeeded', pi], ['charge.succeeded', charge]]);
    return pi;
  }

  /** What the payer does on the Checkout page (a test helper: Stripe's hosted page is not faked). */
  completeCheckout(sessionId: string, outcome: CheckoutOutcome, paymentMethod = stripeId('pm')): FakeCheckoutSession {
    const s = this.sessions.get(sessionId);
    if (!s) throw missing('checkout session', sessionId);
    if (s.status !== 'open') throw invalid(`Session ${sessionId} is ${s.status}.`);
    if (outcome === 'expired') {
      s.status = 'expired';
      this.batch([['checkout.session.expired', s]]);
      return s;
    }
    const data = this.sessionIntentData.get(sessionId) ?? { metadata: {}, setupFutureUsage: null };
    const pi = this.newIntent(s.amount_total, s.currency, s.customer, paymentMethod, data.metadata, data.setupFutureUsage);
    if (s.customer && data.setupFutureUsage) this.attach(s.customer, paymentMethod);
    s.status = 'complete';
    s.payment_intent = pi.id;
    if (outcome === 'paid') {
      const charge = this.succeed(pi);
      s.payment_status = 'paid';
      this.batch([['charge.succeeded', charge], ['payment_intent.succeeded', pi], ['checkout.session.completed', s]]);
    } else {
      // A delayed method (bank debit): the session completes unpaid; the money follows later.
      pi.status = 'processing';
      this.batch([['payment_intent.processing', pi], ['checkout.session.completed', s]]);
    }
    return s;
  }

  /** The delayed payment of an `unpaid` session settles (or fails). */
  settleAsyncPayment(sessionId: string, succeeded: boolean): FakeCheckoutSession {
    const s = this.sessions.get(sessionId);
    const pi = s?.payment_intent ? this.paymentIntents.get(s.payment_intent) : undefined;
    if (!s || !pi || pi.status !== 'processing') throw invalid(`Session ${sessionId} has no processing payment.`);
    if (succeeded) {
      const charge = this.succeed(pi);
      s.payment_status = 'paid';
      this.batch([['charge.succeeded', charge], ['payment_intent.succeeded', pi], ['checkout.session.async_payment_succeeded', s]]);
    } else {
      pi.status = 'requires_payment_method';
      pi.last_payment_error = { type: 'card_error', code: 'payment_method_provider_decline', message: 'The payment failed.' };
      this.batch([['payment_intent.payment_failed', pi], ['checkout.session.async_payment_failed', s]]);
    }
    return s;
  }

  /** POST /v1/refunds (also what a refund from the Dashboard does). */
  createRefund(p: FormObject): FakeRefund {
    const charge = this.chargeOf(str(p.charge), str(p.payment_intent));
    const remaining = charge.amount - charge.amount_refunded;
    const amount = int(p.amount) ?? remaining;
    if (amount <= 0 || amount > remaining) throw invalid(`Refund amount (${amount}) is greater than the unrefunded amount (${remaining}).`, 'amount');
    const r: FakeRefund = {
      id: stripeId('re'),
      object: 'refund',
      created: nowSeconds(),
      amount,
      currency: charge.currency,
      charge: charge.id,
      payment_intent: charge.payment_intent,
      status: 'succeeded',
      reason: str(p.reason) ?? null,
      metadata: stringMap(p.metadata),
    };
    this.refunds.set(r.id, r);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    this.batch([['refund.created', r], ['charge.refunded', charge]]);
    return r;
  }

  listRefunds(q: FormObject): FakeRefund[] {
    const charge = str(q.charge);
    const pi = str(q.payment_intent);
    return [...this.refunds.values()]
      .filter((r) => (!charge || r.charge === charge) && (!pi || r.payment_intent === pi))
      .sort((a, b) => b.created - a.created);
  }

  /**
   * The card holder disputes a charge (a test helper). A chargeback withdraws the funds at once
   * (`charge.dispute.funds_withdrawn` follows `created`); an inquiry (`inquiry`) withdraws nothing.
   */
  openDispute(paymentIntentId: string, amount?: number, inquiry = false): FakeDispute {
    const charge = this.chargeOf(undefined, paymentIntentId);
    const d: FakeDispute = {
      id: stripeId('du'),
      object: 'dispute',
      created: nowSeconds(),
      amount: amount ?? charge.amount,
      currency: charge.currency,
      charge: charge.id,
      payment_intent: charge.payment_intent,
      reason: 'fraudulent',
      status: inquiry ? 'warning_needs_response' : 'needs_response',
      metadata: {},
      livemode: false,
    };
    this.disputes.set(d.id, d);
    charge.disputed = true;
    this.batch(inquiry ? [['charge.dispute.created', d]] : [['charge.dispute.created', d], ['charge.dispute.funds_withdrawn', d]]);
    return d;
  }

  /** A refund that had succeeded fails (the bank returned it): its money is back with the merchant. */
  failRefund(refundId: string): FakeRefund {
    const r = this.refunds.get(refundId);
    if (!r) throw missing('refund', refundId);
    r.status = 'failed';
    const charge = this.chargeOf(r.charge, undefined);
    charge.amount_refunded -= r.amount;
    charge.refunded = false;
    this.batch([['refund.updated', r], ['refund.failed', r]]);
    return r;
  }

  closeDispute(disputeId: string, status: 'won' | 'lost' | 'warning_closed'): FakeDispute {
    const d = this.disputes.get(disputeId);
    if (!d) throw missing('dispute', disputeId);
    d.status = status;
    this.batch(status === 'won' ? [['charge.dispute.closed', d], ['charge.dispute.funds_reinstated', d]] : [['charge.dispute.closed', d]]);
    return d;
  }

  get(kind: 'customers' | 'sessions' | 'paymentIntents' | 'charges' | 'refunds' | 'disputes', id: string): FakeStripeObject {
    const o = this[kind].get(id);
    if (!o) throw missing(kind.replace(/s$/, ''), id);
    return o;
  }

  private newIntent(amount: number, currency: string, customer: string | null, pm: string | null, metadata: Metadata, sfu: string | null): FakePaymentIntent {
    const pi: FakePaymentIntent = {
      id: stripeId('pi'),
      object: 'payment_intent',
      created: nowSeconds(),
      amount,
      amount_received: 0,
      currency,
      customer,
      payment_method: pm,
      status: 'requires_payment_method',
      metadata,
      latest_charge: null,
      setup_future_usage: sfu,
      last_payment_error: null,
      livemode: false,
    };
    this.paymentIntents.set(pi.id, pi);
    return pi;
  }

  private succeed(pi: FakePaymentIntent): FakeCharge {
    const charge: FakeCharge = {
      id: stripeId('ch'),
      object: 'charge',
      created: nowSeconds(),
      amount: pi.amount,
      amount_captured: pi.amount,
      amount_refunded: 0,
      refunded: false,
      disputed: false,
      currency: pi.currency,
      customer: pi.customer,
      payment_intent: pi.id,
      payment_method: pi.payment_method,
      status: 'succeeded',
      paid: true,
      metadata: {},
      livemode: false,
    };
    this.charges.set(charge.id, charge);
    pi.status = 'succeeded';
    pi.amount_received = pi.amount;
    pi.latest_charge = charge.id;
    pi.last_payment_error = null;
    return charge;
  }

  private attach(customer: string, pm: string): void {
    let set = this.savedMethods.get(customer);
    if (!set) this.savedMethods.set(customer, (set = new Set()));
    set.add(pm);
  }

  private takeDecline(): boolean {
    if (this.declines.remaining <= 0) return false;
    this.declines.remaining--;
    return true;
  }

  private chargeOf(chargeId: string | undefined, paymentIntentId: string | undefined): FakeCharge {
    if (chargeId) return this.get('charges', chargeId) as FakeCharge;
    const pi = paymentIntentId ? this.paymentIntents.get(paymentIntentId) : undefined;
    if (!pi?.latest_charge) throw invalid('A succeeded charge or payment_intent is required.', 'charge');
    return this.get('charges', pi.latest_charge) as FakeCharge;
  }

  /** Records one action's events (objects snapshotted now) and hands them to the sender. */
  private batch(items: Array<[type: string, object: FakeStripeObject]>): void {
    const events = items.map(([type, object]): FakeStripeEvent => ({
      id: stripeId('evt'),
      object: 'event',
      api_version: FAKE_STRIPE_API_VERSION,
      created: nowSeconds(),
      type,
      data: { object: snapshot(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
    }));
    this.events.push(...events);
    this.emit(events);
  }
}
