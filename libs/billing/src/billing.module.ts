import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { CreditStoreModule } from '@gw/metering';
import { APP_CONFIG, type AppConfig, redisConnectionOf } from '@gw/core';
import { BillingCoreModule } from './billing-core.module';
import { BillingPaymentsModule } from './billing-payments.module';
import { AutoTopupCharger } from './auto-topup/auto-topup.charger';
import { AutoTopupTrigger } from './auto-topup/auto-topup.trigger';
import { ReconciliationService } from './ledger/reconciliation.service';
import { RedisRecovery } from './ledger/redis-recovery.service';
import { BILLING_QUEUE, PAYMENTS_QUEUE } from './jobs/billing-jobs';
import { BillingProcessor } from './jobs/billing.processor';
import { BillingSchedule } from './jobs/billing.schedule';
import { PaymentsProcessor } from './jobs/payments.processor';
import { queueErrorLogs } from './jobs/queue-error-logs';

/** BullMQ connection options from REDIS_URL; BullMQ refuses ioredis keyPrefix, so it gets its own prefix. */
export function bullConnection(config: AppConfig) {
  return { ...redisConnectionOf(config.REDIS_URL ?? 'redis://127.0.0.1:6379'), maxRetriesPerRequest: null };
}

/** The billing worker (apps/billing, and apps/standalone). */
@Module({
  imports: [
    CreditStoreModule,
    BillingCoreModule,
    BillingPaymentsModule,
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => ({ connection: bullConnection(c), prefix: `${c.REDIS_PREFIX}bull` }),
    }),
    BullModule.registerQueue({ name: BILLING_QUEUE }, { name: PAYMENTS_QUEUE }),
  ],
  providers: [BillingSchedule, BillingProcessor, PaymentsProcessor, AutoTopupTrigger, AutoTopupCharger, ReconciliationService, RedisRecovery, queueErrorLogs('BILLING_QUEUE_ERRORS', BILLING_QUEUE, PAYMENTS_QUEUE)],
  exports: [ReconciliationService, AutoTopupTrigger, RedisRecovery],
})
export class BillingModule {}
