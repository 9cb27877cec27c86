import { Module } from '@nestjs/common';
import { BillingCoreModule } from '@gw/billing';
import { KeysModule } from '../keys/keys.module';
import { OperatorCreditsController } from './operator-credits.controller';
import { OperatorTenantsController } from './operator-tenants.controller';
import { StoredUrlAudit } from './stored-url-audit';

/** Platform operators (/api/admin/*): ADMIN_TOKEN or operator users only. */
@Module({
  imports: [BillingCoreModule, KeysModule],
  controllers: [OperatorCreditsController, OperatorTenantsController],
  providers: [StoredUrlAudit],
})
export class OperatorModule {}
