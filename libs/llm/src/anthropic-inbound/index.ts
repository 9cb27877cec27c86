/**
 * Anthropic Messages in (`POST /v1/messages`), served by any provider with the canonical OpenAI
 * request and chunks in the middle:
 *
 *   const req = anthropicToChatRequest(body);                      // 400s as DomainError
 *   // ... route `req` like /v1/chat/completions, then either
 *   res.json(chatCompletionToAnthropic(parsed.completion, parsed.usage));
 *   // or, streaming:
 *   const conv = new ChatChunksToAnthropicEvents({ id: requestId, model });
 *   write(anthropicEventsToSse(conv.push(transformer.push(bytes), transformer.usage())));
 *   write(anthropicEventsToSse(conv.end(transformer.usage())));   // or conv.fail(err) on error
 *   // errors before the first byte: toAnthropicError(err, requestId) -> status, body, headers
 *   // POST /v1/messages/count_tokens: anthropicCountTokensRequest(body), then count its prompt
 */
export * from './anthropic-inbound.types';
export { anthropicCountTokensRequest, anthropicToChatRequest, effortWithoutThinking } from './anthropic-inbound.request';
export { chatCompletionToAnthropic, finishToStopReason } from './anthropic-inbound.response';
export { ChatChunksToAnthropicEvents, anthropicEventsToSse, ANTHROPIC_PING_SSE, type AnthropicStreamContext } from './anthropic-inbound.stream';
export { toAnthropicError, anthropicErrorEvent, anthropicStatusOf, type AnthropicDescribedError } from './anthropic-inbound.errors';
export { tokenUsageToAnthropic } from './anthropic-inbound.usage';
export { wrapForeignReasoning, unwrapForeignReasoning } from './anthropic-inbound.reasoning';
