import type { TokenUsage } from '@gw/core';
import { isOpenAiUsage, openAiUsageToTokenUsage } from '../../openai-usage';
import type { FinishReason } from '../../openai.types';
import { isRecord } from '../../upstream-errors';
import type { ResolvedSpec } from './openai-compatible.config';

/**
 * Normalisation shared by the response parser and the stream transformer: vendor spellings of
 * finish reasons, reasoning text and usage placement are brought back to OpenAI's.
 */

const FINISH: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  function_call: 'function_call',
  error: 'error',
  // Spellings seen on compatible vendors (end-of-sequence, model context limit, Anthropic-like names).
  eos: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  model_length: 'length',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  safety: 'content_filter',
};

/** What a choice that finished with `error` (and no error object) is mapped as. */
export const FINISHED_WITH_ERROR = { error: { type: 'api_error', message: 'The provider ended the response with an error' } } as const;

/** null/undefined stay null (stream: not finished yet); unknown strings count as `stop`. */
export function normalizeFinishReason(v: unknown): FinishReason | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') return 'stop';
  return FINISH[v] ?? 'stop';
}

/**
 * Content given as a list of chunks (Mistral's reasoning models: a `thinking` chunk holding text
 * parts, then `text` chunks) becomes OpenAI's string `content`, and the thinking text `reasoning`
 * (mutates). A delta left without text loses its `content`; a message's becomes null.
 */
export function flattenContentChunks(target: Record<string, unknown>, delta: boolean): void {
  const chunks = target.content;
  if (!Array.isArray(chunks)) return;
  let text = '';
  let thinking = '';
  for (const c of chunks) {
    if (!isRecord(c)) continue;
    if (c.type === 'text' && typeof c.text === 'string') text += c.text;
    else if (c.type === 'thinking') thinking += textOfParts(c.thinking);
  }
  if (text !== '') target.content = text;
  else if (delta) delete target.content;
  else target.content = null;
  if (thinking !== '' && target.reasoning === undefined) target.reasoning = thinking;
}

function textOfParts(parts: unknown): string {
  if (typeof parts === 'string') return parts;
  if (!Array.isArray(parts)) return '';
  return parts.map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : '')).join('');
}

/** Moves the vendor's reasoning field to `reasoning` on a message or delta object (mutates). */
export function renameReasoning(spec: ResolvedSpec, target: Record<string, unknown>): void {
  const field = spec.reasoningField;
  if (field === undefined) return;
  const v = target[field];
  if (v === undefined) return;
  delete target[field];
  if (v !== null && target.reasoning === undefined) target.reasoning = v;
}

/**
 * Usage on an upstream object: standard `usage`, else the vendor object's `usage`. Both are
 * removed from the object so upstream usage never leaks to the client unnormalised.
 */
export function takeUsage(spec: ResolvedSpec, obj: Record<string, unknown>): TokenUsage | undefined {
  const std = obj.usage;
  let found = isOpenAiUsage(std) ? std : undefined;
  if (std !== undefined) delete obj.usage;
  const vendorField = spec.vendorUsageField;
  if (vendorField !== undefined && obj[vendorField] !== undefined) {
    const vendor = obj[vendorField];
    if (found === undefined && isRecord(vendor) && isOpenAiUsage(vendor.usage)) found = vendor.usage;
    delete obj[vendorField];
  }
  return found === undefined ? undefined : openAiUsageToTokenUsage(found, { reasoningOutsideCompletion: spec.reasoningOutsideCompletion });
}
