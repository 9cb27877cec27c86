import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { CreditStoreModule } from '@gw/metering';
import { bullConnection, queueErrorLogs } from '@gw/billing/worker';
import { AlertDeliverer } from './alerts/alert-deliverer.service';
import { AlertEvaluator } from './alerts/alert-evaluator.service';
import { WebhookClient } from './alerts/webhook.client';
import { OBSERVABILITY_QUEUE } from './jobs/observability-jobs';
import { ObservabilityProcessor } from './jobs/observability.processor';
import { ObservabilitySchedule } from './jobs/observability.schedule';
import { WorkerMetrics } from './metrics/worker-metrics';
import { RetentionService } from './retention/retention.service';

/** Its own BullMQ configuration, so the worker runs with or without the billing worker beside it. */
const BULL_CONFIG = 'observability';

/**
 * The observability worker (apps/billing and apps/standalone, next to BillingModule): retention
 * of request logs and their content, alert evaluation and signed webhook delivery. Needs
 * CoreModule, DbModule and RedisModule from the composition root.
 */
@Module({
  imports: [
    CreditStoreModule,
    BullModule.forRootAsync(BULL_CONFIG, {
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => ({ connection: bullConnection(c), prefix: `${c.REDIS_PREFIX}bull` }),
    }),
    BullModule.registerQueue({ name: OBSERVABILITY_QUEUE, configKey: BULL_CONFIG }),
  ],
  providers: [WebhookClient, WorkerMetrics, RetentionService, AlertEvaluator, AlertDeliverer, ObservabilitySchedule, ObservabilityProcessor, queueErrorLogs('OBSERVABILITY_QUEUE_ERRORS', OBSERVABILITY_QUEUE)],
})
export class ObservabilityWorkerModule {}
