import { DomainError, ErrorCode } from '@gw/core';
import { reasoningIsPermission, type UpstreamHttpRequest } from '@gw/llm';
import type { ChatCall } from './chat-call';
import { exceedsContext, maxOutputOf, platformBetasOf, type Candidate } from './chat-plan';

/** The candidate's upstream request; a DomainError when it cannot take the request (skipped like a failed attempt). */
export function upstreamRequestOf(call: ChatCall, c: Candidate, unsupportedParams: 'reject' | 'drop'): UpstreamHttpRequest {
  if (call.promptCounted && call.promptTokens !== undefined && exceedsContext(call.promptTokens, c.model)) {
    throw new DomainError(
      ErrorCode.ContextLengthExceeded,
      `This model's maximum context length is ${c.model.contextLength} tokens; the messages come to at least ${call.promptTokens} tokens (counted by the gateway, no provider was called). Shorten the messages or choose a model with a longer context.`,
      { param: 'messages', meta: { model: c.model.id, context_length: c.model.contextLength, prompt_tokens: call.promptTokens } },
    );
  }
  // Anthropic `thinking` (/v1/messages) is permission to think: a model the catalog does not list as
  // reasoning is asked without it (OpenAI refuses reasoning_effort on gpt-4o).
  const body = reasoningIsPermission(call.body) && !c.model.capabilities.includes('reasoning') ? { ...call.body, reasoning_effort: undefined } : call.body;
  return c.endpoint.adapter.buildChatRequest(
    body,
    { baseUrl: c.endpoint.baseUrl, apiKey: c.endpoint.apiKey, upstreamModel: c.model.upstreamId },
    { stream: call.body.stream === true, maxTokens: maxOutputOf(call.body, c.model, call.promptTokens), unsupportedParams, anthropicBeta: c.endpoint.credentialId === undefined ? platformBetasOf(call.anthropicBeta) : call.anthropicBeta, outputEffort: call.outputEffort },
  );
}
