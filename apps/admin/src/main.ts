import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { CoreModule, createFastifyApp, loadConfig } from '@gw/core';
import { DbModule } from '@gw/db';
import { OpsModule, RedisModule } from '@gw/metering';
import { AdminModule, CatalogSeeder, setupAdminOpenApi } from '@gw/admin';
import { HealthMetricsModule } from '@gw/observability';
import { QueueMetricsModule } from '@gw/observability/worker';

/** The control plane alone (/api/*): stateless, run as many as needed. */
async function main() {
  const config = loadConfig();
  @Module({ imports: [CoreModule.forRoot(config), DbModule, RedisModule, OpsModule, AdminModule, HealthMetricsModule, QueueMetricsModule] })
  class AdminAppModule {}
  const app = await createFastifyApp(AdminAppModule, config, { name: 'admin' });
  setupAdminOpenApi(app);
  await app.init();
  await app.get(CatalogSeeder).seed();
  await app.listen(config.PORT, config.HOST);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
