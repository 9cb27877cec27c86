import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OnWorkerEvent, Processor } from '@nestjs/bullmq';
import { JobHost } from '@gw/billing/worker';
import type { Job } from 'bullmq';
import { AlertDeliverer } from '../alerts/alert-deliverer.service';
import { AlertEvaluator } from '../alerts/alert-evaluator.service';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { RetentionService } from '../retention/retention.service';
import { OBSERVABILITY_QUEUE, ObservabilityJob, type DeliverAlertData, type ObservabilityJobName } from './observability-jobs';
import { ObservabilitySchedule } from './observability.schedule';

/** Scheduled passes over all tenants: a second copy in the same process would only repeat the first's work. */
const ONE_AT_A_TIME: ReadonlySet<string> = new Set([ObservabilityJob.Retention, ObservabilityJob.EvaluateAlerts]);

/**
 * The observability worker: retention, alert evaluation, alert delivery. One handler per job
 * name; a job whose name has none fails loudly. Deliveries run side by side (a slow receiver
 * must not hold up the others); the two scheduled passes never twice at once in a process.
 */
@Processor(OBSERVABILITY_QUEUE, { concurrency: 8 })
export class ObservabilityProcessor extends JobHost<ObservabilityJobName> implements OnApplicationBootstrap {
  protected readonly handlers: Record<ObservabilityJobName, (job: Job) => Promise<unknown>>;
  private readonly logger = new Logger('observability');

  constructor(
    private readonly schedule: ObservabilitySchedule,
    retention: RetentionService,
    evaluator: AlertEvaluator,
    deliverer: AlertDeliverer,
    private readonly metrics: WorkerMetrics,
  ) {
    super(OBSERVABILITY_QUEUE, ONE_AT_A_TIME);
    this.handlers = {
      [ObservabilityJob.Retention]: () => retention.run(),
      [ObservabilityJob.EvaluateAlerts]: () => evaluator.evaluate(),
      [ObservabilityJob.DeliverAlert]: (job) => deliverer.deliver(job.data as DeliverAlertData, { made: job.attemptsMade, max: job.opts.attempts ?? 1 }),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.schedule.ensure();
  }

  /** Unheard, a worker's `error` event would crash the process. */
  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.workerError(this.logger, 'observability worker', err);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined): void {
    this.metrics.jobFailed(OBSERVABILITY_QUEUE, job?.name ?? 'unknown');
  }
}
