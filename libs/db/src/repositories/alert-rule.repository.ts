import { Injectable } from '@nestjs/common';
import type { SealedSecret } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { Prisma } from '../generated/prisma/client';
import { afterCursor, NEWEST_FIRST, toPage, type Page, type PageRequest } from '../pagination';
import { alertSecretAad } from './sealed-secret.repository';

export const ALERT_KINDS = ['spend_daily', 'spend_monthly', 'balance_below', 'error_rate'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertState = 'armed' | 'fired';

export interface NewAlertRule {
  /** Chosen by the caller: the id is part of the secret's AAD, so it must exist before sealing. */
  id: string;
  kind: AlertKind;
  thresholdMicros: bigint | null;
  thresholdRate: number | null;
  windowMinutes: number | null;
  model: string | null;
  provider: string | null;
  webhookUrl: string;
  sealed: SealedSecret;
  enabled: boolean;
}

/** A rule as stored, with the AAD that opens its signing secret (`box.open(r.sealed, r.aad)`). */
export interface StoredAlertRule extends Omit<NewAlertRule, 'kind'> {
  tenantId: string;
  kind: AlertKind;
  state: AlertState;
  lastFiredAt: Date | null;
  createdAt: Date;
  aad: string;
}

type Row = Prisma.AlertRuleGetPayload<object>;

function toStored(r: Row): StoredAlertRule {
  return {
    id: r.id,
    tenantId: r.tenantId,
    kind: r.kind as AlertKind,
    thresholdMicros: r.thresholdMicros,
    thresholdRate: r.thresholdRate,
    windowMinutes: r.windowMinutes,
    model: r.model,
    provider: r.provider,
    webhookUrl: r.webhookUrl,
    sealed: { ciphertext: r.secretCiphertext, iv: r.secretIv, authTag: r.secretTag, keyVersion: r.secretKeyVersion },
    enabled: r.enabled,
    state: r.state as AlertState,
    lastFiredAt: r.lastFiredAt,
    createdAt: r.createdAt,
    aad: alertSecretAad(r.tenantId, r.id),
  };
}

const bytes = (b: Uint8Array) => new Uint8Array(b);

/**
 * Alert rules. A rule fires once per crossing: `openCrossing` moves it from armed to fired with a
 * conditional update and records the delivery in the same transaction, so however many workers
 * evaluate at once, one crossing makes one delivery; `rearm` moves it back once the condition clears.
 */
@Injectable()
export class AlertRuleRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Every tenant's stored webhook URL, in id order, a page at a time: the operator's start-up audit of
   * URLs written before the URL policy (no tenant scope, ids and URLs only).
   */
  async pageStoredUrls(afterId: string | null, take: number): Promise<{ id: string; tenantId: string; url: string }[]> {
    const rows = await this.prisma.alertRule.findMany({ where: afterId ? { id: { gt: afterId } } : {}, orderBy: { id: 'asc' }, take, select: { id: true, tenantId: true, webhookUrl: true } });
    return rows.map((r) => ({ id: r.id, tenantId: r.tenantId, url: r.webhookUrl }));
  }

  async create(scope: TenantScope, r: NewAlertRule): Promise<StoredAlertRule> {
    const row = await this.prisma.alertRule.create({
      data: {
        id: r.id,
        tenantId: scope.tenantId,
        kind: r.kind,
        thresholdMicros: r.thresholdMicros,
        thresholdRate: r.thresholdRate,
        windowMinutes: r.windowMinutes,
        model: r.model,
        provider: r.provider,
        webhookUrl: r.webhookUrl,
        secretCiphertext: bytes(r.sealed.ciphertext),
        secretIv: bytes(r.sealed.iv),
        secretTag: bytes(r.sealed.authTag),
        secretKeyVersion: r.sealed.keyVersion,
        enabled: r.enabled,
      },
    });
    return toStored(row);
  }

  async page(scope: TenantScope, req: PageRequest): Promise<Page<StoredAlertRule>> {
    const rows = await this.prisma.alertRule.findMany({ where: { tenantId: scope.tenantId, ...afterCursor(req.cursor) }, orderBy: NEWEST_FIRST, take: req.limit + 1 });
    const page = toPage(rows, req.limit);
    return { rows: page.rows.map(toStored), nextCursor: page.nextCursor };
  }

  async get(scope: TenantScope, id: string): Promise<StoredAlertRule | null> {
    const row = await this.prisma.alertRule.findFirst({ where: { id, tenantId: scope.tenantId } });
    return row ? toStored(row) : null;
  }

  count(scope: TenantScope): Promise<number> {
    return this.prisma.alertRule.count({ where: { tenantId: scope.tenantId } });
  }

  /** Deletes the rule and, by cascade, its delivery records. */
  async delete(scope: TenantScope, id: string): Promise<boolean> {
    return (await this.prisma.alertRule.deleteMany({ where: { id, tenantId: scope.tenantId } })).count === 1;
  }

  /** For the evaluator, across tenants (a worker's scan, never reachable from the API): enabled rules in id order. */
  async listEnabled(afterId: string | null, take: number): Promise<StoredAlertRule[]> {
    const rows = await this.prisma.alertRule.findMany({ where: { enabled: true, ...(afterId ? { id: { gt: afterId } } : {}) }, orderBy: { id: 'asc' }, take });
    return rows.map(toStored);
  }

  /**
   * Armed -> fired at `at`, and the crossing's delivery record, atomically. Null when the rule was
   * not armed any more (another worker opened this crossing, or the rule changed meanwhile).
   */
  async openCrossing(scope: TenantScope, ruleId: string, at: Date, delivery: { id: string; payload: Prisma.InputJsonValue }): Promise<{ id: string; createdAt: Date } | null> {
    return this.prisma.$transaction(async (tx) => {
      const r = await tx.alertRule.updateMany({ where: { id: ruleId, tenantId: scope.tenantId, state: 'armed', enabled: true }, data: { state: 'fired', lastFiredAt: at } });
      if (r.count !== 1) return null;
      return tx.alertDelivery.create({
        data: { id: delivery.id, ruleId, tenantId: scope.tenantId, payload: delivery.payload, status: 'pending', createdAt: at },
        select: { id: true, createdAt: true },
      });
    });
  }

  /** Fired -> armed: the condition cleared, so the next crossing fires again. */
  async rearm(scope: TenantScope, ruleId: string): Promise<boolean> {
    return (await this.prisma.alertRule.updateMany({ where: { id: ruleId, tenantId: scope.tenantId, state: 'fired' }, data: { state: 'armed' } })).count === 1;
  }
}
