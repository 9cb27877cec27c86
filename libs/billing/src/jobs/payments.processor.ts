import { Logger, OnModuleDestroy } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { AutoTopupCharger } from '../auto-topup/auto-topup.charger';
import { PAYMENTS_QUEUE, PaymentJob, type AutoTopupChargeData, type PaymentJobName } from './billing-jobs';

/** Charges (auto top-ups), retried with backoff by BullMQ; a few at once, apart from the drains. */
@Processor(PAYMENTS_QUEUE, { concurrency: 4 })
export class PaymentsProcessor extends WorkerHost implements OnModuleDestroy {
  private readonly logger = new Logger('payments');
  private readonly handlers: Record<PaymentJobName, (job: Job) => Promise<unknown>>;

  constructor(private readonly charger: AutoTopupCharger) {
    super();
    this.handlers = {
      [PaymentJob.AutoTopupCharge]: (job) => this.charger.run(job.data as AutoTopupChargeData),
    };
  }

  /** Unheard, a worker's `error` event would crash the process. */
  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.error(`payments worker: ${err.message}`);
  }

  /** Closed before the connections it uses (see BillingProcessor.onModuleDestroy). */
  async onModuleDestroy(): Promise<void> {
    await this.worker.close();
  }

  async process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as PaymentJobName];
    if (!handler) throw new Error(`no handler for payments job ${job.name}`);
    return handler(job);
  }
}
