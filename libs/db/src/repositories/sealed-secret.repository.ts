import { Injectable } from '@nestjs/common';
import type { SealedSecret } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { providerCredentialAad } from './provider-credential.repository';

/** The AAD of an alert rule's webhook signing secret (same scheme as BYOK keys: the owning row). */
export function alertSecretAad(tenantId: string, ruleId: string): string {
  return `alert_rule:${tenantId}:${ruleId}`;
}

/** One sealed secret at rest, wherever it lives, with what is needed to re-seal it. */
export interface SealedSecretRef {
  table: 'provider_credentials' | 'alert_rules';
  id: string;
  aad: string;
  sealed: SealedSecret;
}

/**
 * Every secret sealed under a key-encryption key, across tables, for `npm run keys:rotate`.
 * Deliberately unscoped: rotation is an operator's maintenance job over all tenants, never
 * reachable from the API.
 */
@Injectable()
export class SealedSecretRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Secrets not sealed with `currentVersion`, in id order after `afterId`, at most `take`. */
  async listStale(table: SealedSecretRef['table'], currentVersion: number, afterId: string | undefined, take: number): Promise<SealedSecretRef[]> {
    const idAfter = afterId ? { id: { gt: afterId } } : {};
    if (table === 'provider_credentials') {
      const rows = await this.prisma.providerCredential.findMany({
        where: { keyVersion: { not: currentVersion }, ...idAfter },
        orderBy: { id: 'asc' },
        take,
      });
      return rows.map((r) => ({
        table,
        id: r.id,
        aad: providerCredentialAad(r.tenantId, r.id),
        sealed: { ciphertext: r.ciphertext, iv: r.iv, authTag: r.authTag, keyVersion: r.keyVersion },
      }));
    }
    const rows = await this.prisma.alertRule.findMany({
      where: { secretKeyVersion: { not: currentVersion }, ...idAfter },
      orderBy: { id: 'asc' },
      take,
    });
    return rows.map((r) => ({
      table,
      id: r.id,
      aad: alertSecretAad(r.tenantId, r.id),
      sealed: { ciphertext: r.secretCiphertext, iv: r.secretIv, authTag: r.secretTag, keyVersion: r.secretKeyVersion },
    }));
  }

  /**
   * Replaces a secret only if it is still sealed with the version that was read (a concurrent
   * rotation or edit wins; the caller just moves on). True when this call replaced it.
   */
  async replace(ref: SealedSecretRef, next: SealedSecret): Promise<boolean> {
    const b = (x: Uint8Array) => new Uint8Array(x);
    if (ref.table === 'provider_credentials') {
      const r = await this.prisma.providerCredential.updateMany({
        where: { id: ref.id, keyVersion: ref.sealed.keyVersion },
        data: { ciphertext: b(next.ciphertext), iv: b(next.iv), authTag: b(next.authTag), keyVersion: next.keyVersion },
      });
      return r.count === 1;
    }
    const r = await this.prisma.alertRule.updateMany({
      where: { id: ref.id, secretKeyVersion: ref.sealed.keyVersion },
      data: { secretCiphertext: b(next.ciphertext), secretIv: b(next.iv), secretTag: b(next.authTag), secretKeyVersion: next.keyVersion },
    });
    return r.count === 1;
  }

  /** How many secrets each key version still seals (the rotation's progress report). */
  async countByVersion(): Promise<Record<string, number>> {
    const [creds, alerts] = await Promise.all([
      this.prisma.providerCredential.groupBy({ by: ['keyVersion'], _count: { _all: true } }),
      this.prisma.alertRule.groupBy({ by: ['secretKeyVersion'], _count: { _all: true } }),
    ]);
    const out: Record<string, number> = {};
    for (const c of creds) out[String(c.keyVersion)] = (out[String(c.keyVersion)] ?? 0) + c._count._all;
    for (const a of alerts) out[String(a.secretKeyVersion)] = (out[String(a.secretKeyVersion)] ?? 0) + a._count._all;
    return out;
  }
}
