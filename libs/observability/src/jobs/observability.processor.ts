import { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
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
export class ObservabilityProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly running = new Set<string>();
  private readonly handlers: Record<ObservabilityJobName, (job: Job) => Promise<unknown>>;

  constructor(
    private readonly schedule: ObservabilitySchedule,
    retention: RetentionService,
    evaluator: AlertEvaluator,
    deliverer: AlertDeliverer,
    private readonly metrics: WorkerMetrics,
  ) {
    super();
    this.handlers = {
      [ObservabilityJob.Retention]: () => retention.run(),
      [ObservabilityJob.EvaluateAlerts]: () => evaluator.evaluate(),
      [ObservabilityJob.DeliverAlert]: (job) => deliverer.deliver(job.data as DeliverAlertData, { made: job.attemptsMade, max: job.opts.attempts ?? 1 }),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.schedule.ensure();
  }

  /**
   * @nestjs/bullmq closes workers at onApplicationShutdown, after every onModuleDestroy, so
   * Postgres and Redis would be closed under running jobs (and a job would reopen the pool).
   * Stopping here, before the shared modules are torn down, lets the running job finish first.
   */
  async onModuleDestroy(): Promise<void> {
    await this.worker.close();
  }

  async process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as ObservabilityJobName];
    if (!handler) throw new Error(`no handler for observability job ${job.name}`);
    if (!ONE_AT_A_TIME.has(job.name)) return handler(job);
    if (this.running.has(job.name)) return 'skipped: already running';
    this.running.add(job.name);
    try {
      return await handler(job);
    } finally {
      this.running.delete(job.name);
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined): void {
    this.metrics.jobFailed(OBSERVABILITY_QUEUE, job?.name ?? 'unknown');
  }
}
