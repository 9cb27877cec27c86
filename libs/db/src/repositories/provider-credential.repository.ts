import { Injectable } from '@nestjs/common';
import type { SealedSecret } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { afterCursor, NEWEST_FIRST, toPage, type PageRequest } from '../pagination';
import type { CredentialPriority } from '../generated/prisma/enums';

/**
 * The AAD every BYOK secret is sealed with: the row it belongs to. A ciphertext copied into
 * another tenant's (or another credential's) row then fails authentication instead of being used.
 */
export function providerCredentialAad(tenantId: string, credentialId: string): string {
  return `provider_credential:${tenantId}:${credentialId}`;
}

export interface NewProviderCredential {
  /** Chosen by the caller: the id is part of the AAD, so it must exist before sealing. */
  id: string;
  provider: string;
  label?: string | null;
  sealed: SealedSecret;
  last4: string;
  baseUrl?: string | null;
  priority: CredentialPriority;
}

/** A new `sealed` secret comes with its `last4`; `verifiedAt: null` forgets a verification of what was stored. */
export type ProviderCredentialChanges = Partial<Pick<NewProviderCredential, 'label' | 'baseUrl' | 'priority' | 'sealed' | 'last4'>> & { verifiedAt?: null };

/**
 * A tenant's provider key as stored: sealed, with the AAD to open it. What the gateway loads:
 * `secretBox.open(c.sealed, c.aad)` gives the provider key, in memory only.
 */
export interface StoredProviderCredential {
  id: string;
  tenantId: string;
  provider: string;
  label: string | null;
  baseUrl: string | null;
  priority: CredentialPriority;
  last4: string;
  sealed: SealedSecret;
  aad: string;
  verifiedAt: Date | null;
  createdAt: Date;
}

interface Row {
  id: string;
  tenantId: string;
  provider: string;
  label: string | null;
  ciphertext: Uint8Array;
  iv: Uint8Array;
  authTag: Uint8Array;
  keyVersion: number;
  last4: string;
  baseUrl: string | null;
  priority: CredentialPriority;
  verifiedAt: Date | null;
  createdAt: Date;
}

function toStored(r: Row): StoredProviderCredential {
  return {
    id: r.id,
    tenantId: r.tenantId,
    provider: r.provider,
    label: r.label,
    baseUrl: r.baseUrl,
    priority: r.priority,
    last4: r.last4,
    sealed: { ciphertext: r.ciphertext, iv: r.iv, authTag: r.authTag, keyVersion: r.keyVersion },
    aad: providerCredentialAad(r.tenantId, r.id),
    verifiedAt: r.verifiedAt,
    createdAt: r.createdAt,
  };
}

const bytes = (b: Uint8Array) => new Uint8Array(b);
const PRIORITY_ORDER: Record<CredentialPriority, number> = { first: 0, fallback: 1 };

@Injectable()
export class ProviderCredentialRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Every tenant's stored base URL, in id order, a page at a time: the operator's start-up audit of
   * URLs written before the URL policy (no tenant scope, ids and URLs only).
   */
  async pageStoredUrls(afterId: string | null, take: number): Promise<{ id: string; tenantId: string; url: string }[]> {
    const rows = await this.prisma.providerCredential.findMany({ where: { baseUrl: { not: null }, ...(afterId ? { id: { gt: afterId } } : {}) }, orderBy: { id: 'asc' }, take, select: { id: true, tenantId: true, baseUrl: true } });
    return rows.map((r) => ({ id: r.id, tenantId: r.tenantId, url: r.baseUrl ?? '' }));
  }

  async create(scope: TenantScope, input: NewProviderCredential): Promise<StoredProviderCredential> {
    const row = await this.prisma.providerCredential.create({
      data: {
        id: input.id,
        tenantId: scope.tenantId,
        provider: input.provider,
        label: input.label ?? null,
        ciphertext: bytes(input.sealed.ciphertext),
        iv: bytes(input.sealed.iv),
        authTag: bytes(input.sealed.authTag),
        keyVersion: input.sealed.keyVersion,
        last4: input.last4,
        baseUrl: input.baseUrl ?? null,
        priority: input.priority,
      },
    });
    return toStored(row);
  }

  async page(scope: TenantScope, req: PageRequest & { provider?: string }) {
    const rows = await this.prisma.providerCredential.findMany({
      where: { tenantId: scope.tenantId, ...(req.provider ? { provider: req.provider } : {}), ...afterCursor(req.cursor) },
      orderBy: NEWEST_FIRST,
      take: req.limit + 1,
    });
    const page = toPage(rows, req.limit);
    return { rows: page.rows.map(toStored), nextCursor: page.nextCursor };
  }

  async get(scope: TenantScope, id: string): Promise<StoredProviderCredential | null> {
    const row = await this.prisma.providerCredential.findFirst({ where: { id, tenantId: scope.tenantId } });
    return row ? toStored(row) : null;
  }

  async update(scope: TenantScope, id: string, changes: ProviderCredentialChanges): Promise<StoredProviderCredential | null> {
    const { sealed, ...rest } = changes;
    const secret = sealed ? { ciphertext: bytes(sealed.ciphertext), iv: bytes(sealed.iv), authTag: bytes(sealed.authTag), keyVersion: sealed.keyVersion } : {};
    const r = await this.prisma.providerCredential.updateMany({ where: { id, tenantId: scope.tenantId }, data: { ...rest, ...secret } });
    return r.count === 1 ? this.get(scope, id) : null;
  }

  async delete(scope: TenantScope, id: string): Promise<boolean> {
    const r = await this.prisma.providerCredential.deleteMany({ where: { id, tenantId: scope.tenantId } });
    return r.count === 1;
  }

  async markVerified(scope: TenantScope, id: string, at: Date): Promise<void> {
    await this.prisma.providerCredential.updateMany({ where: { id, tenantId: scope.tenantId }, data: { verifiedAt: at } });
  }

  /**
   * For the gateway: every credential of a tenant in the order to try them (`first` before
   * `fallback`, then oldest first). Filter by provider with `listForProvider`.
   */
  listForTenant(scope: TenantScope): Promise<StoredProviderCredential[]> {
    return this.inTryOrder({ tenantId: scope.tenantId });
  }

  /** For the gateway: one provider's credentials of a tenant, in try order. */
  listForProvider(scope: TenantScope, provider: string): Promise<StoredProviderCredential[]> {
    return this.inTryOrder({ tenantId: scope.tenantId, provider });
  }

  private async inTryOrder(where: { tenantId: string; provider?: string }): Promise<StoredProviderCredential[]> {
    const rows = await this.prisma.providerCredential.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    // Array.prototype.sort is stable, so the age order survives within each priority.
    return rows.map(toStored).sort((a, b) => PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority]);
  }
}
