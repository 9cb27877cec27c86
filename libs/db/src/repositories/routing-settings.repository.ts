import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import type { Prisma } from '../generated/prisma/client';

/** A tenant's routing document as stored; validated by @gw/routing before it is written. */
export interface StoredRoutingDocument {
  document: unknown;
  updatedAt: Date;
}

@Injectable()
export class RoutingSettingsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Null when the tenant never saved one (the caller uses the default document). */
  async get(scope: TenantScope): Promise<StoredRoutingDocument | null> {
    const row = await this.prisma.routingSettings.findUnique({ where: { tenantId: scope.tenantId } });
    return row ? { document: row.document, updatedAt: row.updatedAt } : null;
  }

  async put(scope: TenantScope, document: object): Promise<StoredRoutingDocument> {
    const json = document as Prisma.InputJsonObject;
    const row = await this.prisma.routingSettings.upsert({
      where: { tenantId: scope.tenantId },
      create: { tenantId: scope.tenantId, document: json },
      update: { document: json },
    });
    return { document: row.document, updatedAt: row.updatedAt };
  }
}
