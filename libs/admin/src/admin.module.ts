import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { BillingCoreModule } from '@gw/billing';
import { CreditStoreModule } from '@gw/metering';
import { AuthController } from './auth/auth.controller';
import { AuthService } from './auth/auth.service';
import { AdminBearerStrategy } from './auth/bearer.strategy';
import { AdminAuthGuard } from './auth/admin-auth.guard';
import { PasswordHasher } from './auth/password-hasher';
import { ApiKeyService } from './keys/api-key.service';
import { OperatorCreditsController } from './operator/operator-credits.controller';
import { CatalogSeeder } from './catalog/catalog.seeder';
import { DemoTenantSeeder } from './tenants/demo-tenant.seeder';

/** The control plane (/api/*). Needs CoreModule, DbModule and RedisModule from the composition root. */
@Module({
  imports: [
    CreditStoreModule,
    BillingCoreModule,
    PassportModule,
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => ({ secret: c.jwtSecret, signOptions: { expiresIn: c.JWT_TTL_SECONDS, algorithm: 'HS256' } }),
    }),
  ],
  controllers: [AuthController, OperatorCreditsController],
  providers: [AuthService, AdminBearerStrategy, AdminAuthGuard, PasswordHasher, ApiKeyService, CatalogSeeder, DemoTenantSeeder],
  exports: [AuthService, ApiKeyService, CatalogSeeder, DemoTenantSeeder, PasswordHasher],
})
export class AdminModule {}
