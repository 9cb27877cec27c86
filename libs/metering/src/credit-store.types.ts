import type { Micros } from '@gw/core';

/** A key's credit limit for the current period (period ids are the caller's: '2025-07', 'never'). */
export interface KeyCreditLimit {
  limitMicros: Micros;
  periodId: string;
}

export interface ReserveInput {
  tenantId: string;
  keyId: string;
  /** Gateway-generated; the idempotency key of the hold and of the settle. */
  requestId: string;
  /** The worst case at the prices captured now (see `worstCaseMicros`). */
  amountMicros: Micros;
  /** How far below zero the available balance may go (0 unless configured). */
  overdraftMicros: Micros;
  holdTtlMs: number;
  nowMs: number;
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  /** Counted against the tpm limit (prompt bound + max output: conservative, like OpenAI's). */
  tokensEstimate: number;
  keyCreditLimit?: KeyCreditLimit | null;
  /**
   * Whether the hold counts toward the key's credit limit (default true). A BYOK fee without
   * `include_byok_in_limit` does not: it stays out of the key's held total, which the limit checks.
   */
  countsTowardKeyLimit?: boolean;
}

/** Re-reserve for the same request (a fallback to a pricier model): same checks bar rate limits. */
export interface AdjustHoldInput {
  tenantId: string;
  keyId: string;
  requestId: string;
  /** The new total hold of the request (not a delta). */
  amountMicros: Micros;
  overdraftMicros: Micros;
  holdTtlMs: number;
  nowMs: number;
  keyCreditLimit?: KeyCreditLimit | null;
  /** See ReserveInput: the resized hold counts toward the key's credit limit (default true). */
  countsTowardKeyLimit?: boolean;
}

export type ReserveResult =
  | {
      kind: 'ok';
      holdMicros: Micros;
      /** bal - held + overdraft after this hold. */
      availableMicros: Micros;
      /** The request already held (reserve is idempotent per request id): nothing changed. */
      replayed: boolean;
      expiresAtMs: number;
    }
  /** The key status is missing or not 'active' (401). */
  | { kind: 'key_inactive'; status: string | null }
  /** 429; retryAfterMs is null when the request alone exceeds the limit (it can never pass). */
  | { kind: 'rate_limited'; limit: 'rpm' | 'tpm'; retryAfterMs: number | null }
  /** The balance hash is absent: answer 503 and rebuild it from the ledger. Never zero. */
  | { kind: 'balance_missing' }
  /**
   * 402. availableMicros is what this request could hold (bal - other holds + overdraft);
   * inFlightHolds says other requests hold credit now, so a Retry-After makes sense.
   */
  | { kind: 'insufficient'; availableMicros: Micros; inFlightHolds: boolean }
  /** 402 from the key's own credit limit: spent this period + open holds + this > limit. */
  | { kind: 'key_limit'; limitMicros: Micros; spentMicros: Micros; heldMicros: Micros }
  /** The request id was settled already; a new hold for it could never be settled. */
  | { kind: 'already_settled' };

export type ReserveRejection = Exclude<ReserveResult, { kind: 'ok' }>;

export type RenewResult = { kind: 'renewed'; expiresAtMs: number } | { kind: 'missing' };

export interface SettleInput {
  tenantId: string;
  keyId: string;
  requestId: string;
  /**
   * 0 for a failed request: the hold is released and the event (with its status) still written.
   * While cost + byokFee stays within the hold, I2 holds (bal - held >= -overdraft); beyond it the
   * excess is still charged (the hold must therefore include the expected BYOK fee).
   */
  costMicros: Micros;
  byokFeeMicros: Micros;
  /** Set when the key has a credit limit: the spend is added to this period. */
  keyPeriodId?: string | null;
  /** Whether the BYOK fee counts toward the key's credit limit (api_keys.include_byok_in_limit). */
  keyLimitIncludesByokFee?: boolean;
  /** Free-form event fields (model, provider, status, token counts...); reserved names refused. */
  event: Record<string, string>;
}

export type SettleResult =
  | {
      kind: 'settled';
      /** The usage stream entry id. */
      streamId: string;
      /** The hold released (0 if it had expired and been swept, or never existed). */
      releasedMicros: Micros;
      /** Balance after the debit; null when the balance hash was missing (event still written). */
      balanceMicros: Micros | null;
    }
  | { kind: 'already' };

export interface LedgerEntryPush {
  seq: bigint;
  /** Signed: positive credits, negative refunds/disputes/adjustments. */
  amountMicros: Micros;
}

export type ApplyLedgerResult =
  | { kind: 'applied'; seq: bigint; appliedCount: number; balanceMicros: Micros }
  | { kind: 'balance_missing' };

export interface BalanceSnapshot {
  balanceMicros: Micros;
  /** Net of every ledger entry pushed to Redis (top-ups, promos, minus refunds and disputes). */
  creditsMicros: Micros;
  /** Usage and BYOK fees, written at settle. */
  usageMicros: Micros;
  /** The last ledger seq included. */
  seq: bigint;
}

export type ForceBalanceResult =
  | { kind: 'forced'; heldMicros: Micros }
  | { kind: 'seq_mismatch'; seq: bigint | null }
  /** A settle changed the balance after it was read. */
  | { kind: 'balance_moved' };

export interface Credits {
  credits: Micros;
  usage: Micros;
  balance: Micros;
  /** Σ open holds. */
  reserved: Micros;
  seq: bigint;
}

export interface ReleasedHold {
  tenantId: string;
  keyId: string;
  requestId: string;
  amountMicros: Micros;
}

export type KeyStatus = 'active' | 'revoked' | 'rotated' | 'expired' | 'disabled';
