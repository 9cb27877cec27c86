export * from './billing-core.module';
export * from './billing.module';
export * from './ledger/credit-sync.service';
export * from './ledger/credit.service';
export * from './usage/usage-writer.service';
export * from './jobs/billing-jobs';
