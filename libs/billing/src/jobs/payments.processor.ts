import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { AutoTopupCharger } from '../auto-topup/auto-topup.charger';
import { PAYMENTS_QUEUE, PaymentJob, type AutoTopupChargeData, type PaymentJobName } from './billing-jobs';

/** Charges (auto top-ups), retried with backoff by BullMQ; a few at once, apart from the drains. */
@Processor(PAYMENTS_QUEUE, { concurrency: 4 })
export class PaymentsProcessor extends WorkerHost {
  private readonly handlers: Record<PaymentJobName, (job: Job) => Promise<unknown>>;

  constructor(private readonly charger: AutoTopupCharger) {
    super();
    this.handlers = {
      [PaymentJob.AutoTopupCharge]: (job) => this.charger.run(job.data as AutoTopupChargeData),
    };
  }

  async process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as PaymentJobName];
    if (!handler) throw new Error(`no handler for payments job ${job.name}`);
    return handler(job);
  }
}
