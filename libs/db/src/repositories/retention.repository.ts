import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';

const DAY_MS = 86_400_000;

export interface TenantRetention {
  tenantId: string;
  retentionDays: number;
}

/**
 * What the retention job deletes. Work is done tenant by tenant, in bounded batches, so every
 * statement walks the (tenant_id, created_at) index and no transaction holds many rows; the
 * tenant list itself is deliberately unscoped (a maintenance job over all tenants, never
 * reachable from the API).
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Tenants in id order after `afterId`, with their content retention. */
  async tenants(afterId: string | null, take: number): Promise<TenantRetention[]> {
    const rows = await this.prisma.tenant.findMany({
      where: afterId ? { id: { gt: afterId } } : {},
      orderBy: { id: 'asc' },
      take,
      select: { id: true, retentionDays: true },
    });
    return rows.map((r) => ({ tenantId: r.id, retentionDays: r.retentionDays }));
  }

  /** Nulls the stored prompt/completion content of logs created `retentionDays` or more before `now`. */
  async clearContent(scope: TenantScope, retentionDays: number, now: Date, batch: number): Promise<number> {
    const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
    return this.inBatches(
      () => this.prisma.$executeRaw`
        UPDATE request_logs SET content = NULL WHERE request_id IN (
          SELECT request_id FROM request_logs
          WHERE tenant_id = ${scope.tenantId} AND created_at < ${cutoff} AND content IS NOT NULL
          LIMIT ${batch})`,
      batch,
    );
  }

  /** Deletes request logs created before `cutoff`. */
  async deleteLogsBefore(scope: TenantScope, cutoff: Date, batch: number): Promise<number> {
    return this.inBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM request_logs WHERE request_id IN (
          SELECT request_id FROM request_logs WHERE tenant_id = ${scope.tenantId} AND created_at < ${cutoff} LIMIT ${batch})`,
      batch,
    );
  }

  /** Deletes alert delivery records created before `cutoff`. */
  async deleteDeliveriesBefore(scope: TenantScope, cutoff: Date, batch: number): Promise<number> {
    return this.inBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM alert_deliveries WHERE id IN (
          SELECT id FROM alert_deliveries WHERE tenant_id = ${scope.tenantId} AND created_at < ${cutoff} LIMIT ${batch})`,
      batch,
    );
  }

  /**
   * Forgets Stripe event ids processed before `cutoff`. Stripe retries an event for 3 days and
   * keeps it resendable for 30; an older duplicate would still be refused by the ledger's
   * idempotency keys, so the table need not grow forever.
   */
  async deleteProcessedStripeEventsBefore(cutoff: Date, batch: number): Promise<number> {
    return this.inBatches(
      () => this.prisma.$executeRaw`
        DELETE FROM processed_stripe_events WHERE id IN (
          SELECT id FROM processed_stripe_events WHERE processed_at < ${cutoff} LIMIT ${batch})`,
      batch,
    );
  }

  private async inBatches(step: () => Promise<number>, batch: number): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await step();
      total += n;
      if (n < batch) return total;
    }
  }
}
