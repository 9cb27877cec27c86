import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { BILLING_QUEUE, BillingJob, type BillingJobName } from './billing-jobs';

const SWEEP_EVERY_MS = 5_000;

/**
 * The billing worker's recurring jobs, as BullMQ job schedulers. Upserted by id, so N workers
 * share one schedule; upserted again after Redis lost them (RedisRecovery).
 */
@Injectable()
export class BillingSchedule {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(BILLING_QUEUE) private readonly queue: Queue,
  ) {}

  async ensure(): Promise<void> {
    const every: Array<[id: string, ms: number, name: BillingJobName]> = [
      ['usage-drain', this.config.USAGE_DRAIN_INTERVAL_MS, BillingJob.DrainUsage],
      ['holds-sweep', SWEEP_EVERY_MS, BillingJob.SweepHolds],
      ['ledger-reconcile', this.config.RECONCILE_INTERVAL_MS, BillingJob.Reconcile],
      ['autotopup-scan', this.config.AUTO_TOPUP_SCAN_INTERVAL_MS, BillingJob.AutoTopupScan],
    ];
    for (const [id, ms, name] of every) {
      await this.queue.upsertJobScheduler(id, { every: ms }, { name, opts: { removeOnComplete: true, removeOnFail: 100 } });
    }
  }
}
