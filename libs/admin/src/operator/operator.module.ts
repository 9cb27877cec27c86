import { Module } from '@nestjs/common';
import { BillingCoreModule } from '@gw/billing';
import { KeysModule } from '../keys/keys.module';
import { OperatorCreditsController } from './operator-credits.controller';
import { OperatorTenantsController } from './operator-tenants.controller';

/** Platform operators (/api/admin/*): ADMIN_TOKEN or operator users only. */
@Module({
  imports: [BillingCoreModule, KeysModule],
  controllers: [OperatorCreditsController, OperatorTenantsController],
})
export class OperatorModule {}
