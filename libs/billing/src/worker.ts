/** The billing worker (BullMQ): imported by apps/billing and apps/standalone only. */
export * from './billing.module';
export * from './auto-topup/auto-topup.trigger';
export * from './ledger/redis-recovery.service';
export * from './jobs/job-host';
export * from './jobs/queue-error-logs';
