// Fallback composition root for the billing worker, used only when `apps/billing/dist/main.js`
// cannot start: the same modules as apps/billing plus CreditStoreModule, which BillingProcessor
// needs (CreditStore) and apps/billing does not import (Nest: "can't resolve dependencies of the
// BillingProcessor ... CreditStore at index [3]"). The worker code itself is the product's.
'use strict';
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { CoreModule, createFastifyApp, loadConfig } = require('@gw/core');
const { DbModule } = require('@gw/db');
const { CreditStoreModule, OpsModule, RedisModule } = require('@gw/metering');
const { BillingModule } = require('@gw/billing');

async function main() {
  const config = loadConfig();
  class BillingBenchModule {}
  Module({ imports: [CoreModule.forRoot(config), DbModule, RedisModule, OpsModule, CreditStoreModule, BillingModule] })(BillingBenchModule);
  const app = await createFastifyApp(BillingBenchModule, config);
  await app.listen(config.PORT, config.HOST);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
