import { Logger } from '@nestjs/common';
import type { PaymentTransaction } from '@gw/db';
import type { Stripe } from '../stripe/stripe.client';

const MICROS_PER_CENT = 10_000n;
const logger = new Logger('payments');

export const centsToMicros = (cents: number): bigint => BigInt(cents) * MICROS_PER_CENT;

/**
 * What the ledger needs to know about a PaymentIntent, read from its metadata (set by us when
 * the payment started: Checkout or an auto top-up), never from the event's claims about amounts
 * other than what Stripe says was received.
 */
export interface IntentFacts {
  id: string;
  tenantId: string;
  kind: 'topup' | 'auto_topup';
  paymentId?: string;
  crossingSeq?: bigint;
  checkoutSessionId?: string;
  chargeId: string | null;
  amountMicros: bigint;
  succeeded: boolean;
}

export function idOf(v: string | { id: string } | null | undefined): string | null {
  if (!v) return null;
  return typeof v === 'string' ? v : v.id;
}

/** Null for an intent that is not a gateway payment (no tenant in its metadata, another currency). */
export function factsOf(pi: Stripe.PaymentIntent, checkoutSessionId?: string): IntentFacts | null {
  const m = pi.metadata ?? {};
  if (!m.tenant_id) return null;
  if (pi.currency !== 'usd') {
    logger.error(`payment ${pi.id} of tenant ${m.tenant_id} is in ${pi.currency}, not usd: not credited`);
    return null;
  }
  const auto = m.kind === 'auto_topup';
  if (auto && !/^\d+$/.test(m.crossing_seq ?? '')) return null;
  return {
    id: pi.id,
    tenantId: m.tenant_id,
    kind: auto ? 'auto_topup' : 'topup',
    paymentId: m.payment_id || undefined,
    crossingSeq: auto ? BigInt(m.crossing_seq) : undefined,
    checkoutSessionId,
    chargeId: idOf(pi.latest_charge),
    amountMicros: centsToMicros(pi.amount_received),
    succeeded: pi.status === 'succeeded',
  };
}

/**
 * The credit of a succeeded payment, once: keyed `topup:<payment intent>` (Checkout) or
 * `autotopup:<tenant>:<crossing>` (auto top-up, whatever intent paid for the crossing).
 */
export function creditKeyOf(f: IntentFacts): string {
  return f.kind === 'auto_topup' ? `autotopup:${f.tenantId}:${f.crossingSeq}` : `topup:${f.id}`;
}

/** Why a PaymentIntent did not go through, in words (Stripe's message, else its status). */
export function failureReasonOf(pi: Stripe.PaymentIntent): string {
  return pi.last_payment_error?.message ?? `the payment was ${pi.status.replace(/_/g, ' ')}`;
}

/** The credit entry's description, which names the intent that paid for it. */
function creditDescriptionOf(f: IntentFacts): string {
  return f.kind === 'auto_topup' ? `Auto top-up (${f.id})` : `Stripe top-up (${f.id})`;
}

export interface CreditOutcome {
  /** The credit was written now (false: it was there already, or the payment has not succeeded). */
  created: boolean;
  /** The credit in the ledger is this intent's money: false for a second intent of an auto top-up crossing another one paid. */
  paidByThis: boolean;
}

/** Credits a succeeded payment (no-op if done) and records the payment. */
export async function creditPayment(tx: PaymentTransaction, f: IntentFacts): Promise<CreditOutcome> {
  if (!f.succeeded) return { created: false, paidByThis: false };
  const r = await tx.appendEntry(f.tenantId, {
    kind: 'topup',
    amountMicros: f.amountMicros,
    idempotencyKey: creditKeyOf(f),
    description: creditDescriptionOf(f),
  });
  if (!r) return { created: false, paidByThis: false };
  const paidByThis = r.created || r.entry.description === creditDescriptionOf(f);
  if (!paidByThis) {
    // The crossing was credited for another intent: impossible by design (one crossing, one
    // chain of keyed charges), so say it loudly rather than credit twice.
    logger.error(`auto top-up crossing ${f.tenantId}:${f.crossingSeq} paid again by ${f.id}; refund it`);
  }
  await tx.succeeded({ tenantId: f.tenantId, paymentId: f.paymentId, kind: f.kind, paymentIntentId: f.id, checkoutSessionId: f.checkoutSessionId, chargeId: f.chargeId, amountMicros: f.amountMicros });
  // The attempt names the intent that paid for its crossing, never a second one.
  if (f.kind === 'auto_topup' && paidByThis) await tx.autoTopupSucceeded(f.tenantId, f.crossingSeq!, f.id);
  return { created: r.created, paidByThis };
}

/** Debits each refund once (`refund:<stripe refund id>`), crediting the payment first if needed. */
export async function debitRefunds(
  tx: PaymentTransaction,
  f: IntentFacts,
  refunds: Array<{ id: string; amountMicros: bigint }>,
  failed: Array<{ id: string; amountMicros: bigint }> = [],
): Promise<void> {
  // A refund of money that bought no credit (a second intent of one crossing) takes none back.
  if (!(await creditPayment(tx, f)).paidByThis) return;
  const payment = await tx.findPayment({ paymentIntentId: f.id });
  /** One keyed entry (a no-op when written before), and the payment's refunded total with it. */
  const entry = async (key: string, amountMicros: bigint, description: string) => {
    const r = await tx.appendEntry(f.tenantId, { kind: 'refund', amountMicros, idempotencyKey: key, description });
    if (r?.created && payment) await tx.addRefunded(payment.id, -amountMicros);
  };
  for (const refund of refunds) await entry(`refund:${refund.id}`, -refund.amountMicros, `Refund ${refund.id} of ${f.id}`);
  // A refund that failed after it had succeeded: Stripe has the money back, so the tenant does
  // (`refund_failed:<id>`), once. Its debit is written first if it was not seen yet (net zero), so
  // that a delivery that read the refund as succeeded before it failed, and commits after this
  // one, finds the debit there and takes nothing.
  for (const refund of failed) {
    await entry(`refund:${refund.id}`, -refund.amountMicros, `Refund ${refund.id} of ${f.id} (failed)`);
    await entry(`refund_failed:${refund.id}`, refund.amountMicros, `Refund ${refund.id} of ${f.id} failed`);
  }
}

/**
 * A chargeback withdraws the disputed amount at once (`dispute:<id>`); one won gives it back
 * (`dispute_won:<id>`), with the withdrawal written first if it was not seen yet. A lost dispute
 * changes nothing more. An inquiry withdraws nothing and never reaches here.
 */
export async function applyDispute(tx: PaymentTransaction, f: IntentFacts, dispute: { id: string; amountMicros: bigint }, won: boolean): Promise<void> {
  // A dispute of money that bought no credit (a second intent of one crossing) takes none back.
  if (!(await creditPayment(tx, f)).paidByThis) return;
  const payment = await tx.findPayment({ paymentIntentId: f.id });
  const entry = async (won: boolean) => {
    const amount = won ? dispute.amountMicros : -dispute.amountMicros;
    const r = await tx.appendEntry(f.tenantId, {
      kind: 'dispute',
      amountMicros: amount,
      idempotencyKey: `${won ? 'dispute_won' : 'dispute'}:${dispute.id}`,
      description: `${won ? 'Dispute won' : 'Dispute'} ${dispute.id} of ${f.id}`,
    });
    if (r?.created && payment) await tx.addDisputed(payment.id, -amount);
  };
  // A dispute won before its withdrawal was seen (events out of order) writes both (net zero):
  // the late funds_withdrawn then finds its debit there and takes nothing.
  if (won) await entry(false);
  await entry(won);
}
