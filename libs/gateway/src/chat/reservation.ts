import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock, DomainError, ErrorCode, usdToMicros } from '@gw/core';
import { CreditStore, reserveRejectionError, type ReserveRejection } from '@gw/metering';
import { CreditSync } from '@gw/billing';
import type { KeyInfo } from '../auth/key-cache';
import { limitPeriodId } from './limit-period';

const DAY_MS = 86_400_000;

export interface HoldRequest {
  key: KeyInfo;
  requestId: string;
  amountMicros: bigint;
  tokensEstimate: number;
  /** The attempt runs on the tenant's own key: its hold is the BYOK fee. */
  byok: boolean;
  /** How many output tokens (per choice) a balance of the given micros affords this request, for the 402's message. */
  affordableTokens?: (availableMicros: bigint) => bigint | null;
}

/**
 * The reserve side of the money path: one script that checks the key's status, its rate and
 * credit limits and the tenant's balance, and holds the worst case. Every rejection becomes the
 * client-facing DomainError here.
 */
@Injectable()
export class Reservations {
  private readonly overdraft: bigint;
  /** How long a hold lives without renewal. */
  readonly holdTtlMs: number;
  private readonly periods = new Map<KeyInfo['limitReset'], { id: string; from: number; until: number }>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly credits: CreditStore,
    private readonly sync: CreditSync,
    private readonly clock: Clock,
  ) {
    this.overdraft = usdToMicros(config.OVERDRAFT_USD);
    this.holdTtlMs = config.HOLD_TTL_SECONDS * 1000;
  }

  /**
   * The key's current credit-limit period. Spend is counted per period whether or not the key has
   * a limit now: a limit set later sees what was already spent in its period.
   */
  periodOf(key: KeyInfo): string {
    // Asked twice per request (hold, settle); a period id only changes at a UTC midnight.
    const now = this.clock.now();
    const cached = this.periods.get(key.limitReset);
    if (cached && now >= cached.from && now < cached.until) return cached.id;
    const from = now - (now % DAY_MS);
    const id = limitPeriodId(key.limitReset, now);
    this.periods.set(key.limitReset, { id, from, until: from + DAY_MS });
    return id;
  }

  /**
   * Takes the hold, and renews it every third of its lifetime until the returned function is
   * called: a request holds its money from the reservation to the settle, and a non-streamed
   * answer or a slow first byte can outlast one hold lifetime (a swept hold would let the tenant
   * spend the same credits twice).
   */
  async hold(h: HoldRequest): Promise<() => void> {
    const now = this.clock.now();
    const period = this.periodOf(h.key);
    const r = await this.credits
      .reserve({
        tenantId: h.key.tenantId,
        keyId: h.key.id,
        requestId: h.requestId,
        amountMicros: h.amountMicros,
        overdraftMicros: this.overdraft,
        holdTtlMs: this.holdTtlMs,
        nowMs: now,
        rpmLimit: h.key.rpmLimit,
        tpmLimit: h.key.tpmLimit,
        tokensEstimate: h.tokensEstimate,
        keyCreditLimit: this.keyLimitOf(h, period),
        countsTowardKeyLimit: countsTowardLimit(h),
      })
      .catch((e: unknown) => {
        throw new DomainError(ErrorCode.BillingUnavailable, 'Billing is temporarily unavailable', {
          retryAfterSeconds: 1,
          meta: { cause: (e as Error).message },
        });
      });
    if (r.kind !== 'ok') throw this.rejection(r, h);
    const renewal = setInterval(() => void this.renew(h.key.tenantId, h.requestId).catch(() => undefined), this.holdTtlMs / 3);
    renewal.unref();
    return () => clearInterval(renewal);
  }

  /** A fallback to a pricier model raises the same request's hold (same checks). */
  async raise(h: HoldRequest): Promise<void> {
    const period = this.periodOf(h.key);
    const r = await this.credits.adjustHold({
      tenantId: h.key.tenantId,
      keyId: h.key.id,
      requestId: h.requestId,
      amountMicros: h.amountMicros,
      overdraftMicros: this.overdraft,
      holdTtlMs: this.holdTtlMs,
      nowMs: this.clock.now(),
      keyCreditLimit: this.keyLimitOf(h, period),
      countsTowardKeyLimit: countsTowardLimit(h),
    });
    if (r.kind !== 'ok') throw this.rejection(r, h);
  }

  /**
   * The key's credit limit as the script checks it, or null when this hold does not count toward
   * it: a BYOK fee counts only with the key's `include_byok_in_limit`, as at settle. Such a hold
   * stays out of the key's held total too; a fallback from the tenant's key to the platform's is
   * resized to its own need and checked against the limit then.
   */
  private keyLimitOf(h: HoldRequest, period: string): { limitMicros: bigint; periodId: string } | null {
    if (!countsTowardLimit(h)) return null;
    return h.key.creditLimitMicros !== null ? { limitMicros: h.key.creditLimitMicros, periodId: period } : null;
  }

  private renew(tenantId: string, requestId: string): Promise<unknown> {
    return this.credits.renew(tenantId, requestId, this.holdTtlMs, this.clock.now());
  }

  private rejection(r: ReserveRejection, h: HoldRequest): DomainError {
    // Never zero, never unlimited: a missing balance is rebuilt from the ledger while the client retries.
    if (r.kind === 'balance_missing') void this.sync.sync(h.key.tenantId).catch(() => undefined);
    return reserveRejectionError(r, { neededMicros: h.amountMicros, affordableTokens: h.affordableTokens, inFlightRetryAfterSeconds: 1 });
  }
}

/** A BYOK fee counts toward the key's credit limit only with `include_byok_in_limit`, as at settle. */
function countsTowardLimit(h: HoldRequest): boolean {
  return !h.byok || h.key.includeByokInLimit;
}
