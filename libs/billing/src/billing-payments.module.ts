import { Module } from '@nestjs/common';
import { BillingCoreModule } from './billing-core.module';
import { AutoTopupSettingsService } from './auto-topup/auto-topup-settings.service';
import { BillingNotifier } from './notify/billing-notifier';
import { StripeEventHandler } from './stripe/stripe-event.handler';
import { StripeClient } from './stripe/stripe.client';
import { CheckoutService } from './topup/checkout.service';

/** Stripe top-ups shared by the admin API (checkout, webhook, settings) and the worker (charges). */
@Module({
  imports: [BillingCoreModule],
  providers: [StripeClient, StripeEventHandler, CheckoutService, AutoTopupSettingsService, BillingNotifier],
  exports: [StripeClient, StripeEventHandler, CheckoutService, AutoTopupSettingsService, BillingNotifier],
})
export class BillingPaymentsModule {}
