import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '@gw/core';
import { LedgerRepository, TenantRepository, tenantScope, type PushedEntryInput } from '@gw/db';
import { MAX_LUA_SAFE } from '@gw/metering';
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
    await this.assertApplicable(tenantId, entry);
    const { entry: row, created } = await this.ledger.appendPushed(tenantScope(tenantId), entry);
    if (!created && (row.amountMicros !== entry.amountMicros || row.kind !== entry.kind)) {
      throw new DomainError(ErrorCode.IdempotencyKeyReused, 'This idempotency key was used with a different amount');
    }
    await this.sync.sync(tenantId);
    return { entry: row, created };
  }

  /**
   * Refuses an entry Redis could never apply. Lua numbers are doubles, so the sync refuses to pass
   * the balance script an amount past ±2^53 micros, and a rebuild refuses ledger sums past it; the
   * sync applies entries in sequence order, so such an entry, once committed, would fail every sync
   * and hold back every later credit of the tenant. A replay writes nothing and is not judged again.
   * Two credits racing could each pass alone; with entries bounded at the edge (1,000,000 USD),
   * that needs a tenant already within a few entries of ~9 billion USD.
   */
  private async assertApplicable(tenantId: string, entry: PushedEntryInput): Promise<void> {
    if ((await this.ledger.existingKeys([entry.idempotencyKey])).size > 0) return;
    const totals = await this.ledger.totals(tenantId);
    const after = [entry.amountMicros, totals.credits + entry.amountMicros, totals.balance + entry.amountMicros];
    if (after.some((v) => v > MAX_LUA_SAFE || v < -MAX_LUA_SAFE)) {
      throw new DomainError(
        ErrorCode.InvalidBody,
        `amount would take the tenant's ledger total past what its balance can hold (±${MAX_LUA_SAFE} micros); nothing was written`,
        { param: 'amount' },
      );
    }
  }
}
