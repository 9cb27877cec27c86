import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';

/**
 * Unscoped on purpose: the billing worker's reconciliation and Redis recovery walk every tenant
 * (in id order, by pages) to compare or rebuild its Redis balance from the ledger.
 */
@Injectable()
export class LedgerAuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  async tenantIdsAfter(afterId: string | null, take: number): Promise<string[]> {
    const rows = await this.prisma.tenant.findMany({ where: afterId ? { id: { gt: afterId } } : {}, orderBy: { id: 'asc' }, take, select: { id: true } });
    return rows.map((r) => r.id);
  }
}
