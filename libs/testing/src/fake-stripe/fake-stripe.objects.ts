import { createHmac, randomBytes } from 'node:crypto';

/**
 * The Stripe objects the fake keeps, with the fields the gateway reads (and a few more so that
 * the official SDK's types and a reader of the JSON recognise them). Amounts are in cents.
 */
export type Metadata = Record<string, string>;

export interface FakeCustomer {
  id: string;
  object: 'customer';
  created: number;
  email: string | null;
  metadata: Metadata;
  livemode: false;
}

export interface FakeCheckoutSession {
  id: string;
  object: 'checkout.session';
  created: number;
  mode: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid' | 'no_payment_required';
  amount_total: number;
  amount_subtotal: number;
  currency: string;
  customer: string | null;
  client_reference_id: string | null;
  metadata: Metadata;
  payment_intent: string | null;
  success_url: string | null;
  cancel_url: string | null;
  url: string | null;
  livemode: false;
}

export interface FakeLastPaymentError {
  type: 'card_error';
  code: string;
  decline_code?: string;
  message: string;
}

export interface FakePaymentIntent {
  id: string;
  object: 'payment_intent';
  created: number;
  amount: number;
  amount_received: number;
  currency: string;
  customer: string | null;
  payment_method: string | null;
  status: 'requires_payment_method' | 'requires_confirmation' | 'processing' | 'succeeded' | 'canceled';
  metadata: Metadata;
  latest_charge: string | null;
  setup_future_usage: string | null;
  off_session?: boolean;
  last_payment_error: FakeLastPaymentError | null;
  livemode: false;
}

export interface FakeCharge {
  id: string;
  object: 'charge';
  created: number;
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  refunded: boolean;
  disputed: boolean;
  currency: string;
  customer: string | null;
  payment_intent: string;
  payment_method: string | null;
  status: 'succeeded' | 'failed';
  paid: boolean;
  metadata: Metadata;
  livemode: false;
}

export interface FakeRefund {
  id: string;
  object: 'refund';
  created: number;
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  status: 'succeeded' | 'pending' | 'failed' | 'canceled';
  reason: string | null;
  metadata: Metadata;
}

export interface FakeDispute {
  id: string;
  object: 'dispute';
  created: number;
  amount: number;
  currency: string;
  charge: string;
  payment_intent: string;
  reason: string;
  /** `warning_*`: an inquiry (no funds withdrawn); the others a chargeback. */
  status: 'needs_response' | 'under_review' | 'won' | 'lost' | 'warning_needs_response' | 'warning_under_review' | 'warning_closed';
  metadata: Metadata;
  livemode: false;
}

export type FakeStripeObject = FakeCustomer | FakeCheckoutSession | FakePaymentIntent | FakeCharge | FakeRefund | FakeDispute;

export interface FakeStripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  type: string;
  data: { object: FakeStripeObject };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Stripe-looking ids: `cus_`, `cs_test_`, `pi_`, `ch_`, `re_`, `du_`, `evt_`, `pm_`. */
export function stripeId(prefix: string): string {
  let s = '';
  for (const b of randomBytes(24)) s += ALPHABET[b % 62];
  return `${prefix}_${s}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A deep copy: an event carries the object as it was when the event happened. */
export function snapshot<T>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

/**
 * Stripe's webhook signature: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`,
 * the scheme stripe-node's `webhooks.constructEvent` verifies (and `generateTestHeaderString` makes).
 */
export function stripeSignatureHeader(payload: string, secret: string, timestamp = nowSeconds()): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}
