import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BillingCoreModule } from '@gw/billing';
import { CreditStoreModule } from '@gw/metering';
import { AuthModule } from './auth/auth.module';
import { KeysModule } from './keys/keys.module';
import { MembersModule } from './members/members.module';
import { ProviderKeysModule } from './provider-keys/provider-keys.module';
import { RoutingModule } from './routing/routing.module';
import { EmailModule } from './email/email.module';
import { OperatorModule } from './operator/operator.module';
import { LogsModule } from './logs/logs.module';
import { UsageModule } from './usage/usage.module';
import { PrivacyModule } from './privacy/privacy.module';
import { AlertsModule } from './alerts/alerts.module';
import { BillingApiModule } from './billing/billing-api.module';
import { CatalogSeeder } from './catalog/catalog.seeder';
import { CatalogController } from './catalog/catalog.controller';
import { DemoTenantSeeder } from './tenants/demo-tenant.seeder';
import { ApiEdgeFilter } from './common/api-edge.filter';

/**
 * The control plane (/api/*), one module per feature. Needs CoreModule, DbModule and RedisModule
 * from the composition root. Exports what composition roots and seeders use.
 */
@Module({
  imports: [CreditStoreModule, BillingCoreModule, AuthModule, KeysModule, MembersModule, ProviderKeysModule, RoutingModule, EmailModule, OperatorModule, BillingApiModule, LogsModule, UsageModule, PrivacyModule, AlertsModule],
  controllers: [CatalogController],
  providers: [CatalogSeeder, DemoTenantSeeder, { provide: APP_FILTER, useClass: ApiEdgeFilter }],
  exports: [AuthModule, KeysModule, EmailModule, CatalogSeeder, DemoTenantSeeder],
})
export class AdminModule {}
