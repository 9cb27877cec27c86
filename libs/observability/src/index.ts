/**
 * Observability without BullMQ (safe for the gateway): Redis and Postgres health gauges, the
 * request log view shared by /v1/generation and /api/logs, the webhook signature scheme, job names,
 * the request tracer (OpenTelemetry, loaded only when enabled). The worker and the queue gauges are in `@gw/observability/worker`.
 */
export * from './metrics/health-metrics';
export * from './logs/request-log.view';
export * from './alerts/webhook-signature';
export * from './jobs/observability-jobs';
export * from './tracing/request-tracer';
export * from './tracing/tracing.module';
