import type { TokenUsage } from '@gw/core';
import type { Usage } from './openai.types';

/**
 * OpenAI usage <-> the gateway's TokenUsage. Both use OpenAI's bases: prompt tokens include cache
 * reads and writes, completion tokens include reasoning (wire-formats.md §1.5).
 */
export function usageToOpenAi(u: TokenUsage): Usage {
  const usage: Usage = {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
  };
  if (u.cacheWriteTokens > 0) usage.prompt_tokens_details = { cached_tokens: u.cachedTokens, cache_write_tokens: u.cacheWriteTokens };
  return usage;
}

/** Fields some OpenAI-compatible upstreams add next to the standard ones. */
export interface UsageVariants {
  /** Cache hits reported at the top level instead of in `prompt_tokens_details`. */
  prompt_cache_hit_tokens?: number | null;
}

export interface UsageReadOptions {
  /**
   * The upstream reports reasoning tokens beside `completion_tokens` instead of inside it
   * (then `total_tokens = prompt + completion + reasoning`).
   */
  reasoningOutsideCompletion?: boolean;
}

export function openAiUsageToTokenUsage(u: Usage & UsageVariants, opts: UsageReadOptions = {}): TokenUsage {
  const prompt = count(u.prompt_tokens);
  const reasoning = count(u.completion_tokens_details?.reasoning_tokens);
  let completion = count(u.completion_tokens);
  if (opts.reasoningOutsideCompletion) completion += reasoning;
  const cached = count(u.prompt_tokens_details?.cached_tokens ?? u.prompt_cache_hit_tokens);
  const cacheWrite = count(u.prompt_tokens_details?.cache_write_tokens);
  return {
    promptTokens: prompt,
    cachedTokens: Math.min(cached, prompt),
    cacheWriteTokens: Math.min(cacheWrite, prompt),
    completionTokens: completion,
    reasoningTokens: Math.min(reasoning, completion),
  };
}

/** True for a value shaped like an OpenAI usage object (any vendor's extra fields allowed). */
export function isOpenAiUsage(v: unknown): v is Usage & UsageVariants {
  if (typeof v !== 'object' || v === null) return false;
  const u = v as { prompt_tokens?: unknown; completion_tokens?: unknown };
  return typeof u.prompt_tokens === 'number' || typeof u.completion_tokens === 'number';
}

function count(v: number | null | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}
