import './v8-flags';
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { CoreModule, createFastifyApp, loadConfig } from '@gw/core';
import { DbModule } from '@gw/db';
import { OpsModule, RedisModule } from '@gw/metering';
import { GatewayModule } from '@gw/gateway';
import { HealthMetricsModule } from '@gw/observability';

/** The data plane alone (/v1/*, /healthz, /readyz, /metrics): run N of these behind a load balancer. */
async function main() {
  const config = loadConfig();
  @Module({ imports: [CoreModule.forRoot(config), DbModule, RedisModule, OpsModule, GatewayModule, HealthMetricsModule] })
  class GatewayAppModule {}
  const app = await createFastifyApp(GatewayAppModule, config, { name: 'gateway' });
  await app.listen(config.PORT, config.HOST);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
