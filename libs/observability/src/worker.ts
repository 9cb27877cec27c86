/** The observability worker and the BullMQ queue gauges: imported by apps/billing, apps/admin and apps/standalone only. */
export * from './observability-worker.module';
export * from './metrics/queue-metrics';
