import type { TokenUsage } from '@gw/core';
import type { AnthropicUsageOut } from './anthropic-inbound.types';

/**
 * The gateway's usage (OpenAI bases) -> Anthropic's (wire-formats.md §4.6, OpenAI -> Anthropic):
 * cache reads and writes leave `input_tokens`. It inverts `anthropicUsageToTokenUsage` exactly, so
 * an Anthropic upstream's numbers reach an Anthropic client unchanged.
 */
export function tokenUsageToAnthropic(u: TokenUsage): AnthropicUsageOut {
  const out: AnthropicUsageOut = {
    input_tokens: Math.max(0, u.promptTokens - u.cachedTokens - u.cacheWriteTokens),
    cache_creation_input_tokens: u.cacheWriteTokens,
    cache_read_input_tokens: u.cachedTokens,
    output_tokens: u.completionTokens,
  };
  if (u.cacheWrite1hTokens !== undefined) {
    out.cache_creation = { ephemeral_5m_input_tokens: u.cacheWriteTokens - u.cacheWrite1hTokens, ephemeral_1h_input_tokens: u.cacheWrite1hTokens };
  }
  if (u.reasoningTokens > 0) out.output_tokens_details = { thinking_tokens: u.reasoningTokens };
  return out;
}
