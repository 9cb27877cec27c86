import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '@gw/core';
import { LedgerRepository, TenantRepository, tenantScope, type PushedEntryInput } from '@gw/db';
import { CreditSync } from './credit-sync.service';

/**
 * Credits and debits that are not usage (top-ups, promotions, adjustments, refunds): written to
 * the ledger first, then pushed to Redis. The idempotency key makes a retried call a no-op; the
 * same key with another amount is refused.
 */
@Injectable()
export class CreditService {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly tenants: TenantRepository,
    private readonly sync: CreditSync,
  ) {}

  async post(tenantId: string, entry: PushedEntryInput) {
    if (!(await this.tenants.exists(tenantId))) throw new DomainError(ErrorCode.NotFound, `No tenant ${tenantId}`);
    const { entry: row, created } = await this.ledger.appendPushed(tenantScope(tenantId), entry);
    if (!created && (row.amountMicros !== entry.amountMicros || row.kind !== entry.kind)) {
      throw new DomainError(ErrorCode.IdempotencyKeyReused, 'This idempotency key was used with a different amount');
    }
    await this.sync.sync(tenantId);
    return { entry: row, created };
  }
}
