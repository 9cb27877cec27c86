import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoreModule, createFastifyApp, loadConfig, type AppConfig } from '@gw/core';
import { DbModule } from '@gw/db';
import { OpsModule, RedisModule } from '@gw/metering';
import { GatewayModule } from '@gw/gateway';
import { AdminModule, CatalogSeeder, DemoTenantSeeder, setupAdminOpenApi } from '@gw/admin';
import { BillingModule } from '@gw/billing/worker';
import { HealthMetricsModule } from '@gw/observability';
import { ObservabilityWorkerModule, QueueMetricsModule } from '@gw/observability/worker';
import { startEmbeddedPostgres, startPrivateRedis, type LocalService } from './local-infra';
import { SandboxModule, startSandbox, type Sandbox } from './sandbox';
import { printBanner } from './banner';
import { LocalInfraModule } from './local-infra.module';

const ROOT = resolve(__dirname, '..', '..', '..');
const DATA_DIR = join(ROOT, '.data');

/**
 * `npm start`: the whole product in one process on one port: /v1 (gateway), /api (admin), the
 * billing worker, /healthz, /readyz, /metrics. Postgres and Redis are embedded when
 * DATABASE_URL / REDIS_URL are not set; providers are simulated in sandbox mode.
 */
async function main() {
  const base = loadConfig();
  const owned: LocalService[] = [];
  const databaseUrl = base.DATABASE_URL ?? (await own(owned, startEmbeddedPostgres(DATA_DIR, (m) => console.error(m)))).url;
  const redisUrl = base.REDIS_URL ?? (await own(owned, startPrivateRedis(DATA_DIR))).url;
  // The usage journal sits beside the private Redis's data: what a Redis loss takes, it keeps.
  const config: AppConfig = Object.freeze({ ...base, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, USAGE_JOURNAL_DIR: base.USAGE_JOURNAL_DIR ?? join(DATA_DIR, 'journal') });

  execFileSync(process.execPath, [join(ROOT, 'scripts', 'prisma-wasm-migrate.mjs'), 'deploy'], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  const sandbox: Sandbox | undefined = config.sandbox ? await startSandbox() : undefined;
  @Module({
    imports: [
      CoreModule.forRoot(config),
      DbModule,
      RedisModule,
      OpsModule,
      ...(sandbox ? [SandboxModule.forRoot(sandbox.upstreams)] : []),
      LocalInfraModule.forRoot(async () => {
        await sandbox?.close();
        for (const s of owned.reverse()) await s.stop().catch(() => undefined);
      }),
      GatewayModule,
      AdminModule,
      BillingModule,
      ObservabilityWorkerModule,
      HealthMetricsModule,
      QueueMetricsModule,
    ],
  })
  class StandaloneModule {}

  const app = await createFastifyApp(StandaloneModule, config, { name: 'standalone' });
  setupAdminOpenApi(app);
  await app.init();
  await app.get(CatalogSeeder).seed();
  const demo = await app.get(DemoTenantSeeder).ensure(DATA_DIR);
  await app.listen(config.PORT, config.HOST);
  mkdirSync(DATA_DIR, { recursive: true });
  writeFileSync(join(DATA_DIR, 'runtime.json'), JSON.stringify({ databaseUrl, redisUrl, port: config.PORT }, null, 2), { mode: 0o600 });

  printBanner(config, demo, !!sandbox);
}

async function own(list: LocalService[], p: Promise<LocalService>): Promise<LocalService> {
  const s = await p;
  list.push(s);
  return s;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
