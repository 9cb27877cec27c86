/** Ledger, payments and usage use cases. The BullMQ worker is in `@gw/billing/worker` (keeps BullMQ out of the gateway). */
export * from './billing-core.module';
export * from './billing-payments.module';
export * from './ledger/credit-sync.service';
export * from './ledger/credit.service';
export * from './ledger/reconciliation.service';
export * from './usage/usage-writer.service';
export * from './usage/usage-recovery';
export * from './jobs/billing-jobs';
export * from './stripe/stripe.client';
export * from './stripe/stripe-event.handler';
export * from './topup/checkout.service';
export * from './auto-topup/auto-topup-settings.service';
export * from './auto-topup/auto-topup.charger';
