import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { metric } from './registry';

/** The observability worker's own counters (in the processes that run it). */
@Injectable()
export class WorkerMetrics {
  private readonly failedJobs = metric('gw_jobs_failed_total', () => new Counter({ name: 'gw_jobs_failed_total', help: 'Failed job attempts by queue and job name (retried ones included)', labelNames: ['queue', 'job'] }));
  private readonly deliveries = metric('gw_alert_deliveries_total', () => new Counter({ name: 'gw_alert_deliveries_total', help: 'Alert webhook attempts by outcome (delivered, retrying, failed)', labelNames: ['outcome'] }));
  private readonly retention = metric('gw_retention_rows_total', () => new Counter({ name: 'gw_retention_rows_total', help: 'Rows changed by the retention job: content_cleared, logs_deleted, deliveries_deleted', labelNames: ['action'] }));

  jobFailed(queue: string, job: string): void {
    this.failedJobs.inc({ queue, job });
  }

  delivery(outcome: string): void {
    this.deliveries.inc({ outcome });
  }

  retained(action: 'content_cleared' | 'logs_deleted' | 'deliveries_deleted' | 'stripe_events_deleted', n: number): void {
    if (n > 0) this.retention.inc({ action }, n);
  }
}
