import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';

export interface PrivacySettings {
  /** Store prompt and completion content with request logs (opt-in). */
  logContent: boolean;
  /** Days stored content is kept. */
  retentionDays: number;
}

/** A tenant's privacy choices (columns of the tenant row; the gateway reads them through its tenant cache). */
@Injectable()
export class PrivacySettingsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async get(scope: TenantScope): Promise<PrivacySettings | null> {
    const t = await this.prisma.tenant.findUnique({ where: { id: scope.tenantId }, select: { logContent: true, retentionDays: true } });
    return t && { logContent: t.logContent, retentionDays: t.retentionDays };
  }

  async put(scope: TenantScope, s: PrivacySettings): Promise<PrivacySettings | null> {
    const r = await this.prisma.tenant.updateMany({ where: { id: scope.tenantId }, data: { logContent: s.logContent, retentionDays: s.retentionDays } });
    return r.count === 1 ? s : null;
  }
}
