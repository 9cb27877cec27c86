import { microsToUsd, type TokenUsage } from '@gw/core';
import { priceCardFrom, priceCardView } from '@gw/metering';
import type { Prisma } from '@gw/db';

/** A request log row as stored, without its (possibly large, opt-in) content. */
export type RequestLogRecord = Omit<Prisma.RequestLogGetPayload<object>, 'content'>;

export interface AttemptView {
  model: string;
  provider: string;
  /** Upstream status; 0 when there was no response. */
  status: number;
  /** Error class of a failed attempt. */
  error?: string;
  latency_ms: number;
  /** When the attempt began, ms after the request arrived. */
  started_ms?: number;
  byok?: boolean;
}

/** One request as settlement saw it: the content of its usage event, and what its trace shows. */
export interface SettledRequest {
  /** The gateway's endpoint name: `chat.completions`, `messages`, `embeddings`. */
  endpoint: string;
  requestedModel: string;
  servedModel?: string;
  provider?: string;
  stream: boolean;
  status: number;
  errorCode?: string;
  finishReason?: string | null;
  usage?: TokenUsage;
  estimated: boolean;
  byok: boolean;
  attempts: AttemptView[];
  overheadMs?: number;
  ttfbMs?: number;
  /** From the request's arrival to settlement. */
  totalMs: number;
}

/**
 * One request as every API shows it (GET /v1/generation with an API key, GET /api/logs with a
 * session): one mapping, so a record reads the same on both planes. Money in USD.
 */
export function requestLogView(log: RequestLogRecord) {
  return {
    id: log.requestId,
    requested_model: log.requestedModel,
    model: log.servedModel,
    provider: log.provider,
    endpoint: log.endpoint,
    streamed: log.stream,
    status: log.status,
    error_code: log.errorCode,
    finish_reason: log.finishReason,
    attempts: log.attempts as unknown as AttemptView[],
    routing: log.routeDecisions,
    tokens_prompt: log.promptTokens,
    tokens_cached: log.cachedTokens,
    tokens_cache_write: log.cacheWriteTokens,
    tokens_cache_write_1h: log.cacheWrite1hTokens,
    tokens_completion: log.completionTokens,
    tokens_reasoning: log.reasoningTokens,
    usage: microsToUsd(log.costMicros + log.byokFeeMicros),
    cost: microsToUsd(log.costMicros),
    byok_fee: microsToUsd(log.byokFeeMicros),
    byok: log.byok,
    estimated: log.estimated,
    pricing: pricingViewOf(log.pricing),
    user: log.endUser,
    api_key_id: log.apiKeyId,
    latency: { gateway_overhead_ms: log.overheadMs, time_to_first_byte_ms: log.ttfbMs, total_ms: log.totalMs },
    created_at: log.createdAt.toISOString(),
  };
}

/** The rate card the request was charged at (USD per million tokens), or null: nothing charged, or logged before cards were kept. */
function pricingViewOf(v: unknown) {
  const card = priceCardFrom(v);
  return card ? priceCardView(card) : null;
}
