import { microsToUsd } from '@gw/core';
import type { AutoTopupView } from '@gw/billing';
import type { LedgerEntryRow } from '@gw/db';

/** Money leaves the API as USD numbers, with the exact micros beside them as strings. */
export function ledgerEntryView(e: LedgerEntryRow) {
  return {
    id: e.id.toString(),
    kind: e.kind,
    amount: microsToUsd(e.amountMicros),
    amount_micros: e.amountMicros.toString(),
    description: e.description,
    request_id: e.requestId,
    created_at: e.createdAt.toISOString(),
  };
}

export function autoTopupView(v: AutoTopupView) {
  const usd = (m: bigint | null) => (m === null ? null : microsToUsd(m));
  const a = v.lastAttempt;
  return {
    enabled: v.enabled,
    threshold: usd(v.thresholdMicros),
    amount: usd(v.amountMicros),
    has_payment_method: v.hasPaymentMethod,
    consecutive_failures: v.consecutiveFailures,
    last_attempt: a && { status: a.status, amount: usd(a.amountMicros), declines: a.attempts, error: a.error, updated_at: a.updatedAt.toISOString() },
  };
}

/** The ledger's cursor is the last entry id served (entries are append-only, ids only grow). */
export function encodeLedgerCursor(id: bigint): string {
  return Buffer.from(id.toString()).toString('base64url');
}

/** Entry ids are Postgres bigints: a larger number is no cursor this API returned (and would fail the query). */
const MAX_ENTRY_ID = 2n ** 63n - 1n;

export function decodeLedgerCursor(cursor: string): bigint | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,19}$/.test(text)) return null;
  const id = BigInt(text);
  return id <= MAX_ENTRY_ID ? id : null;
}
