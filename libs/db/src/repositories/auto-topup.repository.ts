import { Injectable } from '@nestjs/common';
import { newId } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';

export interface AutoTopupSettings {
  enabled: boolean;
  thresholdMicros: bigint | null;
  amountMicros: bigint | null;
  /** Consecutive declined charges. */
  failures: number;
  crossingSeq: bigint;
}

export interface EnabledAutoTopup {
  tenantId: string;
  thresholdMicros: bigint;
  amountMicros: bigint;
  crossingSeq: bigint;
}

export interface AutoTopupAttemptRow {
  id: string;
  tenantId: string;
  crossingSeq: bigint;
  amountMicros: bigint;
  status: string;
  /** Declined charges so far for this crossing (names the next charge's Idempotency-Key). */
  attempts: number;
  paymentIntentId: string | null;
  error: string | null;
  updatedAt: Date;
}

/**
 * Auto top-up state: the tenant's settings, its crossing sequence and one attempt row per
 * threshold crossing (unique on tenant + crossing: a crossing can never be charged twice).
 */
@Injectable()
export class AutoTopupRepository {
  constructor(private readonly prisma: PrismaService) {}

  async settings(scope: TenantScope): Promise<AutoTopupSettings | null> {
    const t = await this.prisma.tenant.findUnique({ where: { id: scope.tenantId } });
    if (!t) return null;
    return {
      enabled: t.autoTopupEnabled,
      thresholdMicros: t.autoTopupThresholdMicros,
      amountMicros: t.autoTopupAmountMicros,
      failures: t.autoTopupFailures,
      crossingSeq: t.autoTopupCrossingSeq,
    };
  }

  /** Enabling again (after a disable) starts a fresh failure count. */
  async updateSettings(scope: TenantScope, s: { enabled: boolean; thresholdMicros: bigint; amountMicros: bigint }): Promise<void> {
    await this.prisma.tenant.update({
      where: { id: scope.tenantId },
      data: { autoTopupEnabled: s.enabled, autoTopupThresholdMicros: s.thresholdMicros, autoTopupAmountMicros: s.amountMicros, ...(s.enabled ? { autoTopupFailures: 0 } : {}) },
    });
  }

  /** Unscoped on purpose: the billing worker's periodic scan over every enabled tenant. */
  async listEnabled(afterTenantId: string | null, take: number): Promise<EnabledAutoTopup[]> {
    const rows = await this.prisma.tenant.findMany({
      where: { autoTopupEnabled: true, autoTopupThresholdMicros: { not: null }, autoTopupAmountMicros: { not: null }, ...(afterTenantId ? { id: { gt: afterTenantId } } : {}) },
      orderBy: { id: 'asc' },
      take,
      select: { id: true, autoTopupThresholdMicros: true, autoTopupAmountMicros: true, autoTopupCrossingSeq: true },
    });
    return rows.map((r) => ({ tenantId: r.id, thresholdMicros: r.autoTopupThresholdMicros!, amountMicros: r.autoTopupAmountMicros!, crossingSeq: r.autoTopupCrossingSeq }));
  }

  async enabledOf(tenantIds: string[]): Promise<EnabledAutoTopup[]> {
    if (tenantIds.length === 0) return [];
    const rows = await this.prisma.tenant.findMany({
      where: { id: { in: tenantIds }, autoTopupEnabled: true, autoTopupThresholdMicros: { not: null }, autoTopupAmountMicros: { not: null } },
      select: { id: true, autoTopupThresholdMicros: true, autoTopupAmountMicros: true, autoTopupCrossingSeq: true },
    });
    return rows.map((r) => ({ tenantId: r.id, thresholdMicros: r.autoTopupThresholdMicros!, amountMicros: r.autoTopupAmountMicros!, crossingSeq: r.autoTopupCrossingSeq }));
  }

  attempt(scope: TenantScope, crossingSeq: bigint): Promise<AutoTopupAttemptRow | null> {
    return this.prisma.autoTopupAttempt.findUnique({ where: { tenantId_crossingSeq: { tenantId: scope.tenantId, crossingSeq } } });
  }

  latestAttempt(scope: TenantScope): Promise<AutoTopupAttemptRow | null> {
    return this.prisma.autoTopupAttempt.findFirst({ where: { tenantId: scope.tenantId }, orderBy: { crossingSeq: 'desc' } });
  }

  /**
   * The charge was accepted but not settled (a bank debit can take days): the attempt waits for
   * its intent's outcome (the webhook, or `processingAttempts` reading it) instead of being charged
   * again. False when another run already moved it.
   */
  async markProcessing(attempt: AutoTopupAttemptRow, paymentIntentId: string): Promise<boolean> {
    const r = await this.prisma.autoTopupAttempt.updateMany({ where: { id: attempt.id, status: 'pending', attempts: attempt.attempts }, data: { status: 'processing', paymentIntentId, error: null } });
    return r.count > 0;
  }

  /** Attempts processing since before `before` (their outcome is read from Stripe, in case its webhook was lost). */
  processingAttempts(before: Date, take: number): Promise<AutoTopupAttemptRow[]> {
    return this.prisma.autoTopupAttempt.findMany({ where: { status: 'processing', updatedAt: { lt: before } }, orderBy: { updatedAt: 'asc' }, take });
  }

  /** Attempts still open (for re-enqueueing a job lost with Redis or never added after a crash). */
  pendingAttempts(take: number): Promise<AutoTopupAttemptRow[]> {
    return this.prisma.autoTopupAttempt.findMany({ where: { status: 'pending' }, orderBy: { createdAt: 'asc' }, take });
  }

  /**
   * Opens crossing `observedSeq + 1`: a conditional UPDATE, so of any number of processes that saw
   * the same seq exactly one moves it (and creates the attempt); the others get null.
   */
  openCrossing(scope: TenantScope, observedSeq: bigint): Promise<AutoTopupAttemptRow | null> {
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ seq: bigint; amount: bigint }[]>`
        UPDATE tenants SET auto_topup_crossing_seq = auto_topup_crossing_seq + 1
        WHERE id = ${scope.tenantId} AND auto_topup_enabled AND auto_topup_amount_micros IS NOT NULL AND auto_topup_crossing_seq = ${observedSeq}
        RETURNING auto_topup_crossing_seq AS seq, auto_topup_amount_micros AS amount`;
      if (rows.length === 0) return null;
      return tx.autoTopupAttempt.create({
        data: { id: newId('atu'), tenantId: scope.tenantId, crossingSeq: rows[0].seq, amountMicros: rows[0].amount, status: 'pending' },
      });
    });
  }

  /**
   * Counts a declined charge once (the attempt must still show `seenAttempts`, so a second run of
   * the same job cannot count it again); returns the tenant's consecutive failures, or null when
   * another run already counted it.
   */
  recordDecline(attempt: AutoTopupAttemptRow, seenAttempts: number, error: string, paymentIntentId: string | null): Promise<number | null> {
    return this.prisma.$transaction(async (tx) => {
      const r = await tx.autoTopupAttempt.updateMany({
        where: { id: attempt.id, attempts: seenAttempts, status: 'pending' },
        data: { attempts: { increment: 1 }, error, paymentIntentId },
      });
      if (r.count === 0) return null;
      const t = await tx.tenant.update({ where: { id: attempt.tenantId }, data: { autoTopupFailures: { increment: 1 } }, select: { autoTopupFailures: true } });
      return t.autoTopupFailures;
    });
  }

  /** Ends an attempt without a charge; `disable` also switches auto top-up off. */
  async close(attempt: AutoTopupAttemptRow, status: 'failed' | 'canceled', error: string, disable: boolean): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.autoTopupAttempt.updateMany({ where: { id: attempt.id, status: 'pending' }, data: { status, error } });
      if (disable) await tx.tenant.update({ where: { id: attempt.tenantId }, data: { autoTopupEnabled: false } });
    });
  }

  /** Who hears about billing problems: owners and billing members of the tenant. */
  async billingContacts(scope: TenantScope): Promise<string[]> {
    const users = await this.prisma.user.findMany({ where: { tenantId: scope.tenantId, role: { in: ['owner', 'billing'] } }, select: { email: true } });
    return users.map((u) => u.email);
  }
}
