import { Logger } from '@nestjs/common';
import { OnWorkerEvent, Processor } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { AutoTopupCharger } from '../auto-topup/auto-topup.charger';
import { JobHost } from './job-host';
import { PAYMENTS_QUEUE, PaymentJob, type AutoTopupChargeData, type PaymentJobName } from './billing-jobs';

/** Charges (auto top-ups), retried with backoff by BullMQ; a few at once, apart from the drains. */
@Processor(PAYMENTS_QUEUE, { concurrency: 4 })
export class PaymentsProcessor extends JobHost<PaymentJobName> {
  private readonly logger = new Logger('payments');
  protected readonly handlers: Record<PaymentJobName, (job: Job) => Promise<unknown>>;

  constructor(private readonly charger: AutoTopupCharger) {
    super(PAYMENTS_QUEUE);
    this.handlers = {
      [PaymentJob.AutoTopupCharge]: (job) => this.charger.run(job.data as AutoTopupChargeData),
    };
  }

  /** Unheard, a worker's `error` event would crash the process. */
  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.workerError(this.logger, 'payments worker', err);
  }
}
