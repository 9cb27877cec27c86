/**
 * Token usage normalised one way everywhere (OpenAI's convention): `promptTokens` includes cached
 * and cache-write tokens, `completionTokens` includes reasoning tokens.
 */
export interface TokenUsage {
  promptTokens: number;
  /** Cache reads, part of promptTokens. */
  cachedTokens: number;
  /** Cache writes, part of promptTokens. */
  cacheWriteTokens: number;
  /**
   * Cache writes kept for an hour (Anthropic's `ttl: "1h"`), part of cacheWriteTokens and priced
   * apart from the 5-minute ones. Absent: none, or a provider that does not say.
   */
  cacheWrite1hTokens?: number;
  completionTokens: number;
  /** Part of completionTokens. */
  reasoningTokens: number;
}

export const ZERO_USAGE: TokenUsage = Object.freeze({
  promptTokens: 0,
  cachedTokens: 0,
  cacheWriteTokens: 0,
  completionTokens: 0,
  reasoningTokens: 0,
});
