import { Injectable } from '@nestjs/common';
import { newId } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { afterCursor, NEWEST_FIRST, toPage, type PageRequest } from '../pagination';
import type { ApiKeyKind, ApiKeyStatus, LimitReset } from '../generated/prisma/enums';

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

/** The settings a tenant may change on an existing key. */
export type ApiKeyChanges = Partial<
  Pick<NewApiKey, 'name' | 'rpmLimit' | 'tpmLimit' | 'creditLimitMicros' | 'limitReset' | 'includeByokInLimit' | 'allowedModels' | 'expiresAt'>
>;

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

  /** Keyset page, newest first; optionally only keys of one status. */
  async page(scope: TenantScope, req: PageRequest & { status?: ApiKeyStatus; kind?: ApiKeyKind }) {
    const rows = await this.prisma.apiKey.findMany({
      where: { tenantId: scope.tenantId, ...(req.status ? { status: req.status } : {}), ...(req.kind ? { kind: req.kind } : {}), ...afterCursor(req.cursor) },
      orderBy: NEWEST_FIRST,
      take: req.limit + 1,
    });
    return toPage(rows, req.limit);
  }

  /** Applies changes to a key of this tenant; null when it is not this tenant's key. */
  async update(scope: TenantScope, id: string, changes: ApiKeyChanges) {
    const r = await this.prisma.apiKey.updateMany({ where: { id, tenantId: scope.tenantId }, data: changes });
    return r.count === 1 ? this.get(scope, id) : null;
  }

  /**
   * Rotation in one transaction: the new key (same settings, new secret) is created and the old
   * one, still active, becomes `rotated` until `graceUntil`. Null when the old key is not this
   * tenant's active key (then nothing is written).
   */
  async rotate(scope: TenantScope, oldId: string, replacement: Omit<NewApiKey, 'kind'>, graceUntil: Date) {
    return this.prisma.$transaction(async (tx) => {
      const r = await tx.apiKey.updateMany({
        where: { id: oldId, tenantId: scope.tenantId, status: 'active' },
        data: { status: 'rotated', graceUntil },
      });
      if (r.count !== 1) return null;
      const old = await tx.apiKey.findFirstOrThrow({ where: { id: oldId, tenantId: scope.tenantId } });
      const created = await tx.apiKey.create({ data: { id: newId('key'), tenantId: scope.tenantId, kind: old.kind, ...replacement } });
      return { old, created };
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
