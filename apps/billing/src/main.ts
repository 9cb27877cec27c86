import './v8-flags';
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { CoreModule, createFastifyApp, loadConfig } from '@gw/core';
import { DbModule } from '@gw/db';
import { OpsModule, RedisModule } from '@gw/metering';
import { BillingModule } from '@gw/billing/worker';
import { HealthMetricsModule } from '@gw/observability';
import { ObservabilityWorkerModule, QueueMetricsModule } from '@gw/observability/worker';

/** The workers (BullMQ): usage settlement, sweeps, alerts, retention; over HTTP only /healthz, /readyz and /metrics. */
async function main() {
  const config = loadConfig();
  @Module({ imports: [CoreModule.forRoot(config), DbModule, RedisModule, OpsModule, BillingModule, ObservabilityWorkerModule, HealthMetricsModule, QueueMetricsModule] })
  class BillingAppModule {}
  const app = await createFastifyApp(BillingAppModule, config, { name: 'billing' });
  await app.listen(config.PORT, config.HOST);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
