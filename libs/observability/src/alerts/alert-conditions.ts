import { microsToUsd } from '@gw/core';
import type { StoredAlertRule } from '@gw/db';

/** What a rule measured in one evaluation, and whether that is over (or under) its threshold. */
export interface Reading {
  breached: boolean;
  /** Facts for the webhook payload (money in USD). */
  observed: Record<string, string | number | boolean | null>;
  message: string;
}

const usd = (m: bigint) => `$${microsToUsd(m).toFixed(2)}`;

/** Spend periods are UTC, like the key credit-limit resets. */
export function startOfUtcDay(nowMs: number): Date {
  const d = new Date(nowMs);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

export function startOfUtcMonth(nowMs: number): Date {
  const d = new Date(nowMs);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

export function spendReading(rule: StoredAlertRule, spentMicros: bigint, since: Date): Reading {
  const threshold = rule.thresholdMicros ?? 0n;
  const period = rule.kind === 'spend_monthly' ? 'this month' : 'today';
  return {
    breached: spentMicros >= threshold,
    observed: { spend: microsToUsd(spentMicros), spend_micros: spentMicros.toString(), since: since.toISOString() },
    message: `Spend ${period} (UTC) is ${usd(spentMicros)}, at or above your alert threshold of ${usd(threshold)}.`,
  };
}

export function balanceReading(rule: StoredAlertRule, balanceMicros: bigint): Reading {
  const threshold = rule.thresholdMicros ?? 0n;
  return {
    breached: balanceMicros < threshold,
    observed: { balance: microsToUsd(balanceMicros), balance_micros: balanceMicros.toString() },
    message: `Your balance is ${usd(balanceMicros)}, below your alert threshold of ${usd(threshold)}.`,
  };
}

/** No attempts in the window is no evidence of trouble: the condition is clear. */
export function errorRateReading(rule: StoredAlertRule, attempts: number, failed: number): Reading {
  const rate = attempts === 0 ? 0 : failed / attempts;
  const scope = [rule.model, rule.provider].filter(Boolean).join(' via ') || 'all models';
  return {
    breached: attempts > 0 && rate > (rule.thresholdRate ?? 1),
    observed: { error_rate: Math.round(rate * 10_000) / 10_000, failed_attempts: failed, attempts, window_minutes: rule.windowMinutes },
    message: `${(rate * 100).toFixed(1)}% of upstream attempts for ${scope} failed in the last ${rule.windowMinutes} minutes (threshold ${((rule.thresholdRate ?? 1) * 100).toFixed(1)}%).`,
  };
}

/** The rule as receivers see it (never its secret or URL). */
export function ruleView(rule: StoredAlertRule) {
  return {
    id: rule.id,
    kind: rule.kind,
    threshold: rule.thresholdMicros === null ? null : microsToUsd(rule.thresholdMicros),
    threshold_rate: rule.thresholdRate,
    window_minutes: rule.windowMinutes,
    model: rule.model,
    provider: rule.provider,
  };
}

/** The webhook body of one crossing. `id` is the delivery id, the same on every retry (receivers dedup by it). */
export function alertPayload(rule: StoredAlertRule, reading: Reading, deliveryId: string, at: Date) {
  return {
    id: deliveryId,
    type: 'alert.fired',
    created_at: at.toISOString(),
    tenant_id: rule.tenantId,
    rule: ruleView(rule),
    observed: reading.observed,
    message: reading.message,
  };
}
