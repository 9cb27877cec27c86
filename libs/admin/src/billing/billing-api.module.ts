import { Module } from '@nestjs/common';
import { BillingPaymentsModule } from '@gw/billing';
import { BillingController } from './billing.controller';
import { StripeWebhookRoute } from './stripe-webhook.route';

/** /api/billing: checkout, the Stripe webhook, the ledger, auto top-up settings. */
@Module({
  imports: [BillingPaymentsModule],
  controllers: [BillingController],
  providers: [StripeWebhookRoute],
})
export class BillingApiModule {}
