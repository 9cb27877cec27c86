import { Body, Headers, Param, Post } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode, microsToUsd, usdToMicros } from '@gw/core';
import { CreditService } from '@gw/billing';
import { AdminController } from '../common/admin-controller.decorator';
import { OperatorOnly } from '../auth/principal';
import { AdjustCreditsDto } from './credits.dto';

/** Operators adjust a tenant's credits: a ledger entry first, then Redis through the seq script. */
@AdminController('api/admin/tenants')
@OperatorOnly()
export class OperatorCreditsController {
  constructor(private readonly credits: CreditService) {}

  @Post(':id/credits')
  async adjust(@Param('id') tenantId: string, @Body() dto: AdjustCreditsDto, @Headers('idempotency-key') idem?: string) {
    if (idem !== undefined && (idem.length < 1 || idem.length > 255)) {
      throw new DomainError(ErrorCode.InvalidBody, 'Idempotency-Key must be 1 to 255 characters', { param: 'Idempotency-Key' });
    }
    const amountMicros = usdToMicros(dto.amount);
    if (amountMicros === 0n) throw new DomainError(ErrorCode.InvalidBody, 'amount must not be zero', { param: 'amount' });
    const { entry, created } = await this.credits.post(tenantId, {
      kind: 'adjustment',
      amountMicros,
      // Per tenant: the same key sent for two tenants (one batch script) is two credits.
      idempotencyKey: `adjust:${tenantId}:${idem ?? randomUUID()}`,
      description: dto.reason,
    });
    return {
      id: entry.id.toString(),
      tenant_id: entry.tenantId,
      kind: entry.kind,
      amount: microsToUsd(entry.amountMicros),
      description: entry.description,
      created_at: entry.createdAt.toISOString(),
      replayed: !created,
    };
  }
}
