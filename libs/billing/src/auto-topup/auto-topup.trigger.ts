import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { AutoTopupRepository, tenantScope, type AutoTopupAttemptRow, type EnabledAutoTopup } from '@gw/db';
import { CreditStore } from '@gw/metering';
import { CreditSync } from '../ledger/credit-sync.service';
import { UsageWriter } from '../usage/usage-writer.service';
import { AutoTopupCharger } from './auto-topup.charger';
import { PAYMENTS_QUEUE, PaymentJob, autoTopupJobId, type AutoTopupChargeData } from '../jobs/billing-jobs';

const PAGE = 500;
/** How long a processing payment is left to its webhook before the scan reads it from Stripe. */
const PROCESSING_CHECK_AFTER_MS = 10 * 60_000;
/** Retries of one crossing's job on errors that are not declines (Stripe or Postgres away). */
const JOB_ATTEMPTS = 8;

/**
 * Detects threshold crossings off the hot path: after every usage batch for the tenants that
 * spent in it, and periodically for every enabled tenant (refunds, disputes and adjustments
 * lower balances too). A crossing is opened by a conditional UPDATE of the tenant's
 * `auto_topup_crossing_seq`, so however many workers see the same low balance at once, one opens
 * it, and its job id dedups the charge job.
 */
@Injectable()
export class AutoTopupTrigger implements OnModuleInit {
  private readonly logger = new Logger('auto-topup');
  /** Tenants already logged as too far below their threshold for one top-up (logged once). */
  private readonly tooLow = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: AutoTopupRepository,
    private readonly store: CreditStore,
    private readonly sync: CreditSync,
    private readonly writer: UsageWriter,
    private readonly charger: AutoTopupCharger,
    @InjectQueue(PAYMENTS_QUEUE) private readonly queue: Queue<AutoTopupChargeData>,
  ) {}

  onModuleInit(): void {
    this.writer.onSpent((tenantIds) => this.check(tenantIds).then(() => undefined));
  }

  /** Opens (and enqueues) a crossing for each of these tenants that is below its threshold. */
  async check(tenantIds: string[]): Promise<number> {
    let opened = 0;
    for (const t of await this.repo.enabledOf([...new Set(tenantIds)])) if (await this.consider(t)) opened++;
    return opened;
  }

  /** Every enabled tenant, then every attempt still pending (its job lost with Redis, or never added). */
  async scan(): Promise<{ opened: number; requeued: number }> {
    let opened = 0;
    let after: string | null = null;
    for (;;) {
      const page = await this.repo.listEnabled(after, PAGE);
      for (const t of page) if (await this.consider(t)) opened++;
      if (page.length < PAGE) break;
      after = page[page.length - 1].tenantId;
    }
    const pending = await this.repo.pendingAttempts(PAGE);
    for (const a of pending) await this.enqueue(a);
    // A payment still processing after a while: its outcome is read from Stripe (a lost webhook).
    for (const a of await this.repo.processingAttempts(new Date(Date.now() - PROCESSING_CHECK_AFTER_MS), PAGE)) {
      await this.charger.checkProcessing(a).catch((e: unknown) => this.logger.warn(`auto top-up ${a.tenantId}:${a.crossingSeq}: reading its payment failed: ${(e as Error).message}`));
    }
    return { opened, requeued: pending.length };
  }

  private async consider(t: EnabledAutoTopup): Promise<boolean> {
    const scope = tenantScope(t.tenantId);
    // The crossing's state is read before the balance: an attempt that succeeded has its credit
    // in the ledger already, and the sync below brings it into Redis, so a paid crossing's stale
    // low balance can never open a second one.
    const last = t.crossingSeq > 0n ? (await this.repo.attempt(scope, t.crossingSeq))?.status : undefined;
    if (last === 'pending' || last === 'processing') return false;
    await this.sync.sync(t.tenantId);
    const credits = await this.store.getCredits(t.tenantId);
    if (!credits || credits.balance >= t.thresholdMicros) {
      this.tooLow.delete(t.tenantId);
      return false;
    }
    // A charge that would not bring the balance back to the threshold is not made: each one would
    // open the next crossing at once and charge the card again every scan. With the amount at least
    // the threshold (as settings require), only a balance a refund, a chargeback or an adjustment
    // took below zero gets here; it waits for a manual top-up.
    if (credits.balance + t.amountMicros < t.thresholdMicros) {
      if (!this.tooLow.has(t.tenantId)) {
        this.tooLow.add(t.tenantId);
        this.logger.warn(`tenant ${t.tenantId}: balance too far below its auto top-up threshold for one top-up; not charging`);
      }
      return false;
    }
    this.tooLow.delete(t.tenantId);
    const attempt = await this.repo.openCrossing(scope, t.crossingSeq);
    if (!attempt) return false;
    this.logger.log(`tenant ${t.tenantId} crossed its auto top-up threshold (crossing ${attempt.crossingSeq})`);
    await this.enqueue(attempt);
    return true;
  }

  private async enqueue(a: AutoTopupAttemptRow): Promise<void> {
    await this.queue.add(
      PaymentJob.AutoTopupCharge,
      { tenantId: a.tenantId, crossingSeq: a.crossingSeq.toString() },
      {
        jobId: autoTopupJobId(a.tenantId, a.crossingSeq),
        attempts: JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: this.config.AUTO_TOPUP_RETRY_DELAY_MS },
        removeOnComplete: true,
        // A job that gave up is re-added by the next scan while its attempt is still pending.
        removeOnFail: true,
      },
    );
  }
}
