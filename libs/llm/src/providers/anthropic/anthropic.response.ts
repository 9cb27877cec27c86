import { DomainError, ErrorCode, type TokenUsage } from '@gw/core';
import { usageToOpenAi } from '../../openai-usage';
import type { ChatChoice, ChatCompletion, FinishReason, ReasoningDetail, ResponseMessage, ToolCall } from '../../openai.types';
import type { ParsedCompletion, ResponseContext } from '../../provider';
import { isRecord, mapErrorPayload } from '../../upstream-errors';
import { ANTHROPIC_REASONING_FORMAT, type AnthropicUsage } from './anthropic.types';

/** wire-formats.md §4.4. `pause_turn` has no OpenAI equivalent; `stop` is the gateway's choice. */
const FINISH: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export function mapStopReason(reason: unknown): FinishReason {
  return typeof reason === 'string' ? (FINISH[reason] ?? 'stop') : 'stop';
}

/**
 * wire-formats.md §4.6: Anthropic `input_tokens` excludes cache reads and writes, OpenAI's
 * `prompt_tokens` includes both; `output_tokens` already includes thinking.
 */
export function anthropicUsageToTokenUsage(u: AnthropicUsage): TokenUsage {
  const input = count(u.input_tokens);
  const cacheRead = count(u.cache_read_input_tokens);
  const cacheWrite = count(u.cache_creation_input_tokens);
  const output = count(u.output_tokens);
  const thinking = count(u.output_tokens_details?.thinking_tokens);
  // Hour-long writes cost more than 5-minute ones: kept apart (within the writes) for pricing.
  const write1h = Math.min(count(u.cache_creation?.ephemeral_1h_input_tokens), cacheWrite);
  return {
    promptTokens: input + cacheRead + cacheWrite,
    cachedTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    ...(write1h > 0 ? { cacheWrite1hTokens: write1h } : {}),
    completionTokens: output,
    reasoningTokens: Math.min(thinking, output),
  };
}

/** The stop sequence that ended an answer (`stop_reason: "stop_sequence"`), kept for `/v1/messages` clients. */
export function stopSequenceOf(reason: unknown, sequence: unknown): string | undefined {
  return reason === 'stop_sequence' && typeof sequence === 'string' ? sequence : undefined;
}

export function count(v: number | null | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

export function parseAnthropicResponse(provider: string, body: unknown, ctx: ResponseContext): ParsedCompletion {
  if (!isRecord(body)) throw bad(provider, 'response is not a JSON object');
  if (body.type === 'error') throw mapErrorPayload(provider, body, { inStream: false, nothingSent: true });
  if (!Array.isArray(body.content)) throw bad(provider, 'response has no content array');

  let text = '';
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  const details: ReasoningDetail[] = [];
  for (const block of body.content) {
    if (!isRecord(block)) continue;
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string') text += block.text;
        break;
      case 'tool_use':
        toolCalls.push({
          id: String(block.id),
          type: 'function',
          function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
        });
        break;
      case 'thinking': {
        const t = typeof block.thinking === 'string' ? block.thinking : '';
        reasoning += t;
        details.push({ type: 'reasoning.text', text: t, signature: typeof block.signature === 'string' ? block.signature : null, format: ANTHROPIC_REASONING_FORMAT, index: details.length });
        break;
      }
      case 'redacted_thinking':
        if (typeof block.data === 'string') details.push({ type: 'reasoning.encrypted', data: block.data, format: ANTHROPIC_REASONING_FORMAT, index: details.length });
        break;
      default:
        break;
    }
  }

  const message: ResponseMessage = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (details.length > 0) {
    message.reasoning = reasoning;
    message.reasoning_details = details;
  }
  const usage = isRecord(body.usage) ? anthropicUsageToTokenUsage(body.usage as AnthropicUsage) : undefined;
  const choice: ChatChoice = { index: 0, message, finish_reason: mapStopReason(body.stop_reason), logprobs: null };
  const stopSequence = stopSequenceOf(body.stop_reason, body.stop_sequence);
  if (stopSequence !== undefined) choice.stop_sequence = stopSequence;
  const completion: ChatCompletion = { id: ctx.id, object: 'chat.completion', created: ctx.created, model: ctx.model, choices: [choice] };
  if (usage !== undefined) completion.usage = usageToOpenAi(usage);
  return usage === undefined ? { completion } : { completion, usage };
}

function bad(provider: string, detail: string): DomainError {
  return new DomainError(ErrorCode.UpstreamBadResponse, `Provider ${provider} returned an unusable response`, {
    retryable: true,
    meta: { provider, detail },
  });
}
