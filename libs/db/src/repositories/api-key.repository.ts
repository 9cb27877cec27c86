import { Injectable } from '@nestjs/common';
import { newId } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import type { ApiKeyKind, LimitReset } from '../generated/prisma/enums';

export interface NewApiKey {
  name: string;
  kind: ApiKeyKind;
  hash: string;
  prefix: string;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  creditLimitMicros?: bigint | null;
  limitReset?: LimitReset;
  includeByokInLimit?: boolean;
  allowedModels?: string[];
  expiresAt?: Date | null;
}

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(scope: TenantScope, input: NewApiKey) {
    return this.prisma.apiKey.create({ data: { id: newId('key'), tenantId: scope.tenantId, ...input } });
  }

  list(scope: TenantScope, opts: { limit: number; cursor?: string }) {
    return this.prisma.apiKey.findMany({
      where: { tenantId: scope.tenantId },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: opts.limit + 1,
      ...(opts.cursor ? { cursor: { id: opts.cursor }, skip: 1 } : {}),
    });
  }

  get(scope: TenantScope, id: string) {
    return this.prisma.apiKey.findFirst({ where: { id, tenantId: scope.tenantId } });
  }

  /**
   * The only unscoped read: the gateway resolves a presented key by its hash (the hash is the
   * credential; the tenant is what it yields).
   */
  findByHash(hash: string) {
    return this.prisma.apiKey.findUnique({ where: { hash } });
  }

  async setStatus(scope: TenantScope, id: string, status: 'active' | 'revoked' | 'rotated', graceUntil?: Date | null) {
    const r = await this.prisma.apiKey.updateMany({ where: { id, tenantId: scope.tenantId }, data: { status, graceUntil } });
    return r.count === 1;
  }

  /** Every key of every tenant, for warming the Redis key-status entries after a Redis loss. */
  listAllStatuses() {
    return this.prisma.apiKey.findMany({ select: { id: true, tenantId: true, status: true, graceUntil: true, expiresAt: true } });
  }
}
