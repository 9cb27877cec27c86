import type { FastifyReply } from 'fastify';
import { describeError, microsToUsd, type TokenUsage } from '@gw/core';

/** An error before any byte was sent: the status of its code and OpenAI's error shape. */
export function sendError(reply: FastifyReply, err: unknown, requestId: string): void {
  const d = describeError(err);
  void reply.status(d.status).headers(d.headers).header('x-request-id', requestId).send(d.body);
}

/** OpenAI's usage object plus the gateway's `cost` (USD). */
export function usageJson(u: TokenUsage, costMicros: bigint) {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens, cache_write_tokens: u.cacheWriteTokens },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
    cost: microsToUsd(costMicros),
  };
}
