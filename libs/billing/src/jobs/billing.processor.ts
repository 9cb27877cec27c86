import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job, Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig, Clock } from '@gw/core';
import { CreditStore, UsageStream } from '@gw/metering';
import { UsageWriter } from '../usage/usage-writer.service';
import { BILLING_QUEUE, BillingJob, type BillingJobName } from './billing-jobs';

const SWEEP_EVERY_MS = 5_000;
const CLAIM_STALE_EVERY = 10;

/**
 * The billing worker: drains usage streams into the ledger on a BullMQ job scheduler and sweeps
 * abandoned holds. Schedulers are upserted by id, so N workers share one schedule.
 */
@Processor(BILLING_QUEUE, { concurrency: 1 })
export class BillingProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger('billing');
  private drains = 0;
  private readonly handlers: Record<BillingJobName, (job: Job) => Promise<unknown>>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(BILLING_QUEUE) private readonly queue: Queue,
    private readonly writer: UsageWriter,
    private readonly credits: CreditStore,
    private readonly clock: Clock,
  ) {
    super();
    this.handlers = {
      [BillingJob.DrainUsage]: () => this.writer.drainAll(this.drains++ % CLAIM_STALE_EVERY === 0),
      [BillingJob.SweepHolds]: () => this.sweep(),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler('usage-drain', { every: this.config.USAGE_DRAIN_INTERVAL_MS }, { name: BillingJob.DrainUsage, opts: { removeOnComplete: true, removeOnFail: 100 } });
    await this.queue.upsertJobScheduler('holds-sweep', { every: SWEEP_EVERY_MS }, { name: BillingJob.SweepHolds, opts: { removeOnComplete: true, removeOnFail: 100 } });
  }

  async process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as BillingJobName];
    if (!handler) throw new Error(`no handler for billing job ${job.name}`);
    return handler(job);
  }

  private async sweep(): Promise<number> {
    let released = 0;
    const now = this.clock.now();
    for (const b of UsageStream.buckets()) released += (await this.credits.sweepExpiredHolds(b, now, 1000)).length;
    if (released) this.logger.warn(`released ${released} abandoned hold(s)`);
    return released;
  }
}
