import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { AutoTopupRepository, PaymentRepository, StripeCustomerRepository, tenantScope, type AutoTopupAttemptRow } from '@gw/db';
import { CreditSync } from '../ledger/credit-sync.service';
import { BillingNotifier } from '../notify/billing-notifier';
import { StripeClient } from '../stripe/stripe.client';
import { creditPayment, factsOf, failureReasonOf } from '../topup/payment-effects';
import type { AutoTopupChargeData } from '../jobs/billing-jobs';

export type ChargeOutcome = 'credited' | 'processing' | 'canceled' | 'disabled' | 'noop';

/** A declined charge that may be retried: thrown so that BullMQ retries with backoff. */
export class AutoTopupDeclined extends Error {}

/**
 * Charges one threshold crossing. The PaymentIntent's Idempotency-Key is
 * `autotopup:<tenant>:<crossing>` (with `:retry<n>` after n declines, since Stripe replays a saved
 * decline for its key forever): a job that crashed, stalled or ran twice resends the same key and
 * Stripe answers with the same intent, and the credit is keyed by the crossing, so one crossing is
 * charged and credited once. Declines count toward AUTO_TOPUP_MAX_FAILURES consecutive failures,
 * after which auto top-up is switched off and the tenant is told.
 */
@Injectable()
export class AutoTopupCharger {
  private readonly logger = new Logger('auto-topup');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: AutoTopupRepository,
    private readonly customers: StripeCustomerRepository,
    private readonly payments: PaymentRepository,
    private readonly stripe: StripeClient,
    private readonly sync: CreditSync,
    private readonly notifier: BillingNotifier,
  ) {}

  async run(data: AutoTopupChargeData): Promise<ChargeOutcome> {
    const scope = tenantScope(data.tenantId);
    const attempt = await this.repo.attempt(scope, BigInt(data.crossingSeq));
    if (!attempt || attempt.status !== 'pending') return 'noop';
    const settings = await this.repo.settings(scope);
    if (!settings?.enabled) {
      await this.repo.close(attempt, 'canceled', 'auto top-up was turned off', false);
      return 'canceled';
    }
    // Failures counted outside a charge (a bank debit that came back) end it here too.
    if (settings.failures >= this.config.AUTO_TOPUP_MAX_FAILURES) return this.giveUp(attempt, settings.failures, attempt.error ?? 'too many failed payments');
    const customer = await this.customers.get(scope);
    if (!customer?.paymentMethodId) return this.giveUp(attempt, 0, 'no saved card');

    const r = await this.stripe.chargeOffSession(
      {
        customerId: customer.customerId,
        paymentMethodId: customer.paymentMethodId,
        amountCents: Number(attempt.amountMicros / 10_000n),
        metadata: { tenant_id: attempt.tenantId, kind: 'auto_topup', crossing_seq: attempt.crossingSeq.toString() },
        description: `Auto top-up ${attempt.crossingSeq}`,
      },
      this.idempotencyKey(attempt),
    );
    switch (r.kind) {
      case 'succeeded': {
        const facts = factsOf(r.intent)!;
        await this.payments.transaction((tx) => creditPayment(tx, facts));
        await this.sync.sync(attempt.tenantId);
        return 'credited';
      }
      case 'processing':
        // Not settled yet (a bank debit): the attempt waits for this intent's outcome, from its
        // webhook or `checkProcessing`, and is never charged again meanwhile (Stripe forgets an
        // Idempotency-Key after 24 hours: a resend would then be a second charge).
        await this.repo.markProcessing(attempt, r.intent.id);
        return 'processing';
      case 'declined': {
        const failures = await this.repo.recordDecline(attempt, attempt.attempts, r.message, r.paymentIntentId);
        if (failures === null) return 'noop';
        if (failures >= this.config.AUTO_TOPUP_MAX_FAILURES) return this.giveUp(attempt, failures, r.message);
        this.logger.warn(`auto top-up of ${attempt.tenantId} declined (${failures}/${this.config.AUTO_TOPUP_MAX_FAILURES}): ${r.message}`);
        throw new AutoTopupDeclined(`declined: ${r.message}`);
      }
    }
  }

  /**
   * An attempt processing for a while (its webhook may have been lost): its intent's outcome read
   * from Stripe, and applied as the webhook would have.
   */
  async checkProcessing(attempt: AutoTopupAttemptRow): Promise<'credited' | 'failed' | 'processing'> {
    if (attempt.status !== 'processing' || !attempt.paymentIntentId) return 'processing';
    const intent = await this.stripe.retrievePaymentIntent(attempt.paymentIntentId);
    const facts = factsOf(intent);
    if (intent.status === 'succeeded' && facts) {
      await this.payments.transaction((tx) => creditPayment(tx, facts));
      await this.sync.sync(attempt.tenantId);
      return 'credited';
    }
    // requires_action: the bank wants the holder, who is not there for an off-session charge.
    if (intent.status === 'requires_payment_method' || intent.status === 'canceled' || intent.status === 'requires_action' || intent.status === 'requires_confirmation') {
      await this.payments.transaction((tx) => tx.autoTopupPaymentFailed(attempt.tenantId, attempt.crossingSeq, intent.id, failureReasonOf(intent)));
      return 'failed';
    }
    return 'processing';
  }

  idempotencyKey(a: AutoTopupAttemptRow): string {
    const base = `autotopup:${a.tenantId}:${a.crossingSeq}`;
    return a.attempts === 0 ? base : `${base}:retry${a.attempts}`;
  }

  private async giveUp(attempt: AutoTopupAttemptRow, failures: number, reason: string): Promise<ChargeOutcome> {
    await this.repo.close(attempt, 'failed', reason, true);
    this.logger.warn(`auto top-up of ${attempt.tenantId} switched off after ${failures} failure(s): ${reason}`);
    await this.notifier.autoTopupDisabled(attempt.tenantId, attempt.amountMicros, failures, reason);
    return 'disabled';
  }
}
