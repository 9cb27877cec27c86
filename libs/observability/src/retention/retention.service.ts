import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock } from '@gw/core';
import { RetentionRepository, tenantScope } from '@gw/db';
import { WorkerMetrics } from '../metrics/worker-metrics';

const TENANT_PAGE = 500;
const ROW_BATCH = 5_000;
const DAY_MS = 86_400_000;
/** Processed Stripe event ids are kept this long (Stripe resends an event for at most 30 days). */
const STRIPE_EVENT_DAYS = 90;

export interface RetentionResult {
  tenants: number;
  contentCleared: number;
  logsDeleted: number;
  deliveriesDeleted: number;
  stripeEventsDeleted: number;
}

/**
 * The retention job: per tenant, stored prompt/completion content older than the tenant's
 * `retention_days` is nulled (the log row stays for usage and billing questions), and request
 * logs and alert deliveries older than REQUEST_LOG_RETENTION_DAYS are deleted; processed Stripe
 * event ids older than 90 days are forgotten.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger('retention');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: RetentionRepository,
    private readonly clock: Clock,
    private readonly metrics: WorkerMetrics,
  ) {}

  async run(): Promise<RetentionResult> {
    const now = new Date(this.clock.now());
    const cutoff = new Date(now.getTime() - this.config.REQUEST_LOG_RETENTION_DAYS * DAY_MS);
    const r: RetentionResult = { tenants: 0, contentCleared: 0, logsDeleted: 0, deliveriesDeleted: 0, stripeEventsDeleted: 0 };
    let after: string | null = null;
    for (;;) {
      const page = await this.repo.tenants(after, TENANT_PAGE);
      for (const t of page) {
        const scope = tenantScope(t.tenantId);
        r.tenants++;
        r.contentCleared += await this.repo.clearContent(scope, t.retentionDays, now, ROW_BATCH);
        r.logsDeleted += await this.repo.deleteLogsBefore(scope, cutoff, ROW_BATCH);
        r.deliveriesDeleted += await this.repo.deleteDeliveriesBefore(scope, cutoff, ROW_BATCH);
      }
      if (page.length < TENANT_PAGE) break;
      after = page[page.length - 1]!.tenantId;
    }
    r.stripeEventsDeleted = await this.repo.deleteProcessedStripeEventsBefore(new Date(now.getTime() - STRIPE_EVENT_DAYS * DAY_MS), ROW_BATCH);
    this.metrics.retained('stripe_events_deleted', r.stripeEventsDeleted);
    this.metrics.retained('content_cleared', r.contentCleared);
    this.metrics.retained('logs_deleted', r.logsDeleted);
    this.metrics.retained('deliveries_deleted', r.deliveriesDeleted);
    if (r.contentCleared || r.logsDeleted || r.deliveriesDeleted) {
      this.logger.log(`cleared content of ${r.contentCleared} request log(s); deleted ${r.logsDeleted} request log(s) and ${r.deliveriesDeleted} alert deliveries`);
    }
    return r;
  }
}
