import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OnWorkerEvent, Processor } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { Clock } from '@gw/core';
import { CreditStore, UsageStream } from '@gw/metering';
import { AutoTopupTrigger } from '../auto-topup/auto-topup.trigger';
import { ReconciliationService } from '../ledger/reconciliation.service';
import { UsageWriter } from '../usage/usage-writer.service';
import { BILLING_QUEUE, BillingJob, type BillingJobName } from './billing-jobs';
import { BillingSchedule } from './billing.schedule';
import { JobHost } from './job-host';

const CLAIM_STALE_EVERY = 10;

/**
 * The billing worker's recurring jobs: drain usage streams into the ledger, sweep abandoned
 * holds, reconcile Redis with the ledger, scan for auto top-up thresholds. One handler per job
 * name; a job whose name has none fails loudly. Jobs of different names run side by side (a long
 * reconciliation must not hold up the drains), but one name never twice at once in a process: a
 * second drain would read this consumer's same pending entries again.
 */
@Processor(BILLING_QUEUE, { concurrency: 4 })
export class BillingProcessor extends JobHost<BillingJobName> implements OnApplicationBootstrap {
  private readonly logger = new Logger('billing');
  private drains = 0;
  protected readonly handlers: Record<BillingJobName, (job: Job) => Promise<unknown>>;

  constructor(
    private readonly schedule: BillingSchedule,
    private readonly writer: UsageWriter,
    private readonly credits: CreditStore,
    private readonly reconciliation: ReconciliationService,
    private readonly autoTopup: AutoTopupTrigger,
    private readonly clock: Clock,
  ) {
    super(BILLING_QUEUE, new Set(Object.values(BillingJob)));
    this.handlers = {
      [BillingJob.DrainUsage]: () => this.writer.drainAll(this.drains++ % CLAIM_STALE_EVERY === 0),
      [BillingJob.SweepHolds]: () => this.sweep(),
      [BillingJob.Reconcile]: () => this.reconciliation.run(),
      [BillingJob.AutoTopupScan]: () => this.autoTopup.scan(),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.schedule.ensure();
  }

  /** A worker's `error` event unheard would crash the process (Redis lost a running job's lock, say). */
  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.workerError(this.logger, 'billing worker', err);
  }

  private async sweep(): Promise<number> {
    let released = 0;
    const now = this.clock.now();
    for (const b of UsageStream.buckets()) released += (await this.credits.sweepExpiredHolds(b, now, 1000)).length;
    if (released) this.logger.warn(`released ${released} abandoned hold(s)`);
    return released;
  }
}
