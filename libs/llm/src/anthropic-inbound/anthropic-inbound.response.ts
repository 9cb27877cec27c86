import type { TokenUsage } from '@gw/core';
import { openAiUsageToTokenUsage } from '../openai-usage';
import type { ChatCompletion, FinishReason, JsonObject } from '../openai.types';
import type { AnthropicStopReason } from '../providers/anthropic';
import { sanitizeToolId } from '../providers/anthropic';
import { isRecord } from '../upstream-errors';
import { reasoningBlocks, wrapReasoningText } from './anthropic-inbound.reasoning';
import type { AnthropicMessageOut, AnthropicOutputBlock } from './anthropic-inbound.types';
import { tokenUsageToAnthropic } from './anthropic-inbound.usage';

/**
 * OpenAI finish reason -> Anthropic stop reason (wire-formats.md §4.4). Whether `stop` came from a
 * stop sequence is not carried by OpenAI responses: only an upstream that names the sequence
 * (Anthropic, as the choice's `stop_sequence`, passed for a `stop` finish) gives `stop_sequence`;
 * otherwise it is `end_turn`, or `tool_use` when the message holds tool_use blocks: some
 * compatible vendors finish tool calls with `stop`, and Anthropic clients (Claude Code) run the
 * tools only on `tool_use`, as Gemini's STOP is read (§4.4).
 */
export function finishToStopReason(reason: FinishReason | null | undefined, stopSequence?: string, hasToolUse = false): AnthropicStopReason {
  if (stopSequence !== undefined) return 'stop_sequence';
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return hasToolUse ? 'tool_use' : 'end_turn';
  }
}

/**
 * A non-streamed completion (any adapter's `parseChatResponse`) -> the Anthropic message a
 * `/v1/messages` client expects. `usage` is the gateway's TokenUsage (exact on Anthropic's bases,
 * cache reads and writes included); without it the completion's own usage is used.
 * `carryReasoning`: as in the stream converter, the unsigned reasoning of a message that calls
 * tools goes out in a `redacted_thinking` envelope before the first tool_use.
 */
export function chatCompletionToAnthropic(completion: ChatCompletion, usage?: TokenUsage, opts: { carryReasoning?: boolean } = {}): AnthropicMessageOut {
  const choice = completion.choices.find((c) => c.index === 0) ?? completion.choices[0];
  const content: AnthropicOutputBlock[] = [];
  if (choice !== undefined) {
    const m = choice.message;
    content.push(...reasoningBlocks(m.reasoning_details));
    const text = typeof m.content === 'string' ? m.content : '';
    if (text !== '') content.push({ type: 'text', text });
    else if (typeof m.refusal === 'string' && m.refusal !== '') content.push({ type: 'text', text: m.refusal });
    const calls = m.tool_calls ?? [];
    if (opts.carryReasoning === true && calls.length > 0 && typeof m.reasoning === 'string' && m.reasoning !== '') {
      content.push({ type: 'redacted_thinking', data: wrapReasoningText(m.reasoning) });
    }
    for (const call of calls) content.push({ type: 'tool_use', id: sanitizeToolId(call.id), name: call.function.name, input: toolInput(call.function.arguments) });
  }
  const tokens = usage ?? (completion.usage ? openAiUsageToTokenUsage(completion.usage) : undefined);
  // Only a `stop` can have come from a stop sequence.
  const stopSequence = choice?.finish_reason === 'stop' ? choice.stop_sequence : undefined;
  return {
    id: completion.id,
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content,
    stop_reason: finishToStopReason(choice?.finish_reason, stopSequence, content.some((b) => b.type === 'tool_use')),
    stop_sequence: stopSequence ?? null,
    usage: tokens === undefined ? { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 } : tokenUsageToAnthropic(tokens),
  };
}

/**
 * `tool_use.input` must be an object. Models sometimes emit arguments that are not JSON; the
 * client then gets `{}` and its tool reports the missing fields, which the model can recover from.
 */
export function toolInput(args: string): JsonObject {
  if (args.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    return isRecord(v) ? (v as JsonObject) : {};
  } catch {
    return {};
  }
}
