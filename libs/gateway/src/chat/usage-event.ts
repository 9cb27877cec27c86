import type { AttemptView, SettledRequest } from '@gw/observability';

/** One upstream attempt, as the usage event carries it and every API shows it. */
export type AttemptRecord = AttemptView;

/** Everything the billing worker needs to write one ledger entry and one request log. */
export interface UsageEventInput extends SettledRequest {
  endUser?: string;
  /** The routing decisions that shaped the plan (rules, splits, suffixes). */
  decisions?: string[];
  /** The rate card of the charge (`PriceCard` as JSON), when something was charged. */
  pricing?: string;
  createdAtMs: number;
}

/** Flattens the event into the string map a Redis stream entry holds. */
export function usageEventFields(e: UsageEventInput): Record<string, string> {
  const f: Record<string, string> = {
    endpoint: e.endpoint,
    requestedModel: e.requestedModel,
    stream: e.stream ? '1' : '0',
    status: String(e.status),
    estimated: e.estimated ? '1' : '0',
    byok: e.byok ? '1' : '0',
    attempts: JSON.stringify(e.attempts),
    totalMs: e.totalMs.toFixed(3),
    createdAtMs: String(e.createdAtMs),
  };
  if (e.servedModel) f.servedModel = e.servedModel;
  if (e.provider) f.provider = e.provider;
  if (e.errorCode) f.errorCode = e.errorCode;
  if (e.finishReason) f.finishReason = e.finishReason;
  if (e.endUser) f.endUser = e.endUser;
  if (e.decisions?.length) f.decisions = JSON.stringify(e.decisions);
  if (e.pricing) f.pricing = e.pricing;
  if (e.overheadMs !== undefined) f.overheadMs = e.overheadMs.toFixed(3);
  if (e.ttfbMs !== undefined) f.ttfbMs = e.ttfbMs.toFixed(3);
  if (e.usage) {
    f.promptTokens = String(e.usage.promptTokens);
    f.cachedTokens = String(e.usage.cachedTokens);
    f.cacheWriteTokens = String(e.usage.cacheWriteTokens);
    if (e.usage.cacheWrite1hTokens) f.cacheWrite1hTokens = String(e.usage.cacheWrite1hTokens);
    f.completionTokens = String(e.usage.completionTokens);
    f.reasoningTokens = String(e.usage.reasoningTokens);
  }
  return f;
}
