import { newId } from '@gw/core';
import type { Prisma } from '../generated/prisma/client';
import type { LedgerEntryRow, PushedEntryInput } from './ledger.repository';

export interface PaymentRow {
  id: string;
  tenantId: string;
  kind: string;
  checkoutSessionId: string | null;
  paymentIntentId: string | null;
  amountMicros: bigint;
  status: string;
  chargeId: string | null;
  refundedMicros: bigint;
  disputedMicros: bigint;
}

export interface SucceededPayment {
  tenantId: string;
  /** Our payment id when the payment started with us (Checkout), from the intent's metadata. */
  paymentId?: string;
  kind: 'topup' | 'auto_topup';
  paymentIntentId: string;
  checkoutSessionId?: string;
  chargeId: string | null;
  amountMicros: bigint;
}

/**
 * One Stripe event's database effects, in one transaction: the event id, the payment rows and
 * the ledger entries commit together or not at all (a retried delivery finds nothing half done).
 * Every money effect first locks the tenant row, so effects of concurrent deliveries for one
 * tenant run one after another and each sees what the previous committed: an idempotency key
 * already in the ledger is skipped, never inserted twice (and no sequence number is wasted).
 */
export class PaymentTransaction {
  private readonly locked = new Set<string>();

  constructor(private readonly tx: Prisma.TransactionClient) {}

  /** False when the event was recorded before: a duplicate delivery, nothing to do. */
  async recordEvent(id: string, type: string): Promise<boolean> {
    const rows = await this.tx.$queryRaw<{ id: string }[]>`
      INSERT INTO processed_stripe_events (id, type) VALUES (${id}, ${type}) ON CONFLICT (id) DO NOTHING RETURNING id`;
    return rows.length === 1;
  }

  /** False when the tenant does not exist (deleted): its money effects are dropped. */
  async lockTenant(tenantId: string): Promise<boolean> {
    if (this.locked.has(tenantId)) return true;
    const rows = await this.tx.$queryRaw<{ id: string }[]>`SELECT id FROM tenants WHERE id = ${tenantId} FOR UPDATE`;
    if (rows.length === 0) return false;
    this.locked.add(tenantId);
    return true;
  }

  /**
   * LedgerRepository.appendPushed inside this transaction: the next per-tenant seq, unless the
   * idempotency key is already there. Needs the tenant lock (taken here if missing).
   */
  async appendEntry(tenantId: string, input: PushedEntryInput): Promise<{ entry: LedgerEntryRow; created: boolean } | null> {
    if (!(await this.lockTenant(tenantId))) return null;
    const existing = await this.tx.ledgerEntry.findUnique({ where: { idempotencyKey: input.idempotencyKey } });
    if (existing) return { entry: existing, created: false };
    const [row] = await this.tx.$queryRaw<{ ledger_seq: bigint }[]>`
      UPDATE tenants SET ledger_seq = ledger_seq + 1 WHERE id = ${tenantId} RETURNING ledger_seq`;
    const entry = await this.tx.ledgerEntry.create({ data: { tenantId, seq: row.ledger_seq, ...input } });
    return { entry, created: true };
  }

  /** Whether the ledger has the entry with this idempotency key. */
  async hasEntry(idempotencyKey: string): Promise<boolean> {
    return (await this.tx.ledgerEntry.findUnique({ where: { idempotencyKey }, select: { id: true } })) !== null;
  }

  findPayment(where: { id?: string; checkoutSessionId?: string; paymentIntentId?: string }): Promise<PaymentRow | null> {
    const or = Object.entries(where)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ({ [k]: v }));
    if (or.length === 0) return Promise.resolve(null);
    return this.tx.payment.findFirst({ where: { OR: or } });
  }

  /** The payment row of a succeeded intent, found by our id, session or intent, or created. */
  async succeeded(p: SucceededPayment): Promise<PaymentRow> {
    const found = await this.findPayment({ id: p.paymentId, checkoutSessionId: p.checkoutSessionId, paymentIntentId: p.paymentIntentId });
    const data = { status: 'succeeded', paymentIntentId: p.paymentIntentId, chargeId: p.chargeId, amountMicros: p.amountMicros };
    if (found) return this.tx.payment.update({ where: { id: found.id }, data: { ...data, checkoutSessionId: found.checkoutSessionId ?? p.checkoutSessionId } });
    return this.tx.payment.create({
      data: { id: p.paymentId ?? newId('pay'), tenantId: p.tenantId, kind: p.kind, checkoutSessionId: p.checkoutSessionId, ...data },
    });
  }

  /** Status of a Checkout payment that has not succeeded (a succeeded payment never goes back). */
  async setCheckoutStatus(checkoutSessionId: string, status: 'processing' | 'failed' | 'expired'): Promise<void> {
    await this.tx.payment.updateMany({ where: { checkoutSessionId, status: { not: 'succeeded' } }, data: { status } });
  }

  async addRefunded(paymentId: string, micros: bigint): Promise<void> {
    await this.tx.payment.update({ where: { id: paymentId }, data: { refundedMicros: { increment: micros } } });
  }

  async addDisputed(paymentId: string, micros: bigint): Promise<void> {
    await this.tx.payment.update({ where: { id: paymentId }, data: { disputedMicros: { increment: micros } } });
  }

  /** The card a Checkout saved for off-session charges (auto top-up). */
  async savePaymentMethod(tenantId: string, customerId: string, paymentMethodId: string): Promise<void> {
    await this.tx.stripeCustomer.updateMany({ where: { tenantId, customerId }, data: { paymentMethodId } });
  }

  /** An auto top-up credited: its crossing is closed and the failure streak ends. */
  /**
   * The processing payment of a crossing failed (a bank debit returned): counted as one decline,
   * and the attempt is open again, to be charged anew under its next key. Only the intent the
   * attempt was waiting for counts, once. Returns the tenant's consecutive failures, or null.
   */
  async autoTopupPaymentFailed(tenantId: string, crossingSeq: bigint, paymentIntentId: string, error: string): Promise<number | null> {
    const r = await this.tx.autoTopupAttempt.updateMany({
      where: { tenantId, crossingSeq, status: 'processing', paymentIntentId },
      data: { status: 'pending', attempts: { increment: 1 }, error },
    });
    if (r.count === 0) return null;
    const t = await this.tx.tenant.update({ where: { id: tenantId }, data: { autoTopupFailures: { increment: 1 } }, select: { autoTopupFailures: true } });
    return t.autoTopupFailures;
  }

  async autoTopupSucceeded(tenantId: string, crossingSeq: bigint, paymentIntentId: string): Promise<void> {
    await this.tx.autoTopupAttempt.updateMany({ where: { tenantId, crossingSeq }, data: { status: 'succeeded', paymentIntentId, error: null } });
    await this.tx.tenant.update({ where: { id: tenantId }, data: { autoTopupFailures: 0 } });
  }
}
