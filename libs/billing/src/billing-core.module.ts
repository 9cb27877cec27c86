import { Module } from '@nestjs/common';
import { CreditSync } from './ledger/credit-sync.service';
import { CreditService } from './ledger/credit.service';
import { UsageWriter } from './usage/usage-writer.service';

/** Ledger use cases shared by the gateway, the admin API and the worker (no queues). */
@Module({ providers: [CreditSync, CreditService, UsageWriter], exports: [CreditSync, CreditService, UsageWriter] })
export class BillingCoreModule {}
