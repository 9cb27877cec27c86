import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { Prisma } from '../generated/prisma/client';
import { afterCursor, NEWEST_FIRST, toPage, type Page, type PageRequest } from '../pagination';

/** pending (not tried yet), retrying (an attempt failed, another is scheduled), delivered, failed (gave up). */
export type AlertDeliveryStatus = 'pending' | 'retrying' | 'delivered' | 'failed';

export type AlertDeliveryRow = Prisma.AlertDeliveryGetPayload<object>;

export interface DeliveryAttempt {
  status: AlertDeliveryStatus;
  responseStatus: number | null;
  error: string | null;
  at: Date;
}

/** One record per alert crossing, updated after every webhook attempt (count, last status, last error). */
@Injectable()
export class AlertDeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  get(scope: TenantScope, id: string): Promise<AlertDeliveryRow | null> {
    return this.prisma.alertDelivery.findFirst({ where: { id, tenantId: scope.tenantId } });
  }

  async page(scope: TenantScope, req: PageRequest & { ruleId?: string }): Promise<Page<AlertDeliveryRow>> {
    const rows = await this.prisma.alertDelivery.findMany({
      where: { tenantId: scope.tenantId, ...(req.ruleId ? { ruleId: req.ruleId } : {}), ...afterCursor(req.cursor) },
      orderBy: NEWEST_FIRST,
      take: req.limit + 1,
    });
    return toPage(rows, req.limit);
  }

  /** Counts one attempt; a delivered or given-up record is final and never changes again. */
  async recordAttempt(scope: TenantScope, id: string, a: DeliveryAttempt): Promise<boolean> {
    const r = await this.prisma.alertDelivery.updateMany({
      where: { id, tenantId: scope.tenantId, status: { in: ['pending', 'retrying'] } },
      data: {
        attempts: { increment: 1 },
        status: a.status,
        responseStatus: a.responseStatus,
        error: a.error,
        ...(a.status === 'delivered' ? { deliveredAt: a.at } : {}),
      },
    });
    return r.count === 1;
  }

  /**
   * For the evaluator, across tenants: deliveries still open that were created before `before`,
   * oldest first (their jobs are re-added, a no-op while the job exists: it was lost otherwise).
   */
  unfinished(before: Date, take: number): Promise<Array<{ id: string; tenantId: string; ruleId: string; createdAt: Date }>> {
    return this.prisma.alertDelivery.findMany({
      where: { status: { in: ['pending', 'retrying'] }, createdAt: { lt: before } },
      orderBy: { createdAt: 'asc' },
      take,
      select: { id: true, tenantId: true, ruleId: true, createdAt: true },
    });
  }
}
