import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { Prisma } from '../generated/prisma/client';

export type RequestLogInput = Prisma.RequestLogCreateManyInput;

@Injectable()
export class RequestLogRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Batched insert; a re-delivered batch is skipped by the request id primary key. */
  async insertMany(rows: RequestLogInput[], tx: Prisma.TransactionClient = this.prisma): Promise<number> {
    if (rows.length === 0) return 0;
    return (await tx.requestLog.createMany({ data: rows, skipDuplicates: true })).count;
  }

  get(scope: TenantScope, requestId: string) {
    return this.prisma.requestLog.findFirst({ where: { requestId, tenantId: scope.tenantId } });
  }
}
