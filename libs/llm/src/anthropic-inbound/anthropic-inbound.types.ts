/**
 * What the gateway's `POST /v1/messages` returns: Anthropic Messages response, stream events and
 * errors, as @anthropic-ai/sdk 1.12 reads them (`resources/messages/messages.ts`, `lib/MessageStream.ts`).
 * Request shapes are validated from `unknown` in anthropic-inbound.request.ts.
 */
import type { JsonObject } from '../openai.types';
import type { AnthropicStopReason } from '../providers/anthropic';

export type AnthropicOutputBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: JsonObject }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

/** Usage on Anthropic's bases: `input_tokens` excludes cache reads and writes (wire-formats.md §2.8). */
export interface AnthropicUsageOut {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** Present when the upstream said how long its cache writes live (Anthropic). */
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
  output_tokens_details?: { thinking_tokens: number };
}

export interface AnthropicMessageOut {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicOutputBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsageOut;
}

export type AnthropicDeltaOut =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string };

export type AnthropicEventOut =
  | { type: 'message_start'; message: AnthropicMessageOut }
  | { type: 'content_block_start'; index: number; content_block: AnthropicOutputBlock }
  | { type: 'content_block_delta'; index: number; delta: AnthropicDeltaOut }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason: AnthropicStopReason; stop_sequence: string | null }; usage: Partial<AnthropicUsageOut> & { output_tokens: number } }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: AnthropicErrorObject };

export interface AnthropicErrorObject {
  type: string;
  message: string;
}

/** `{"type":"error","error":{"type","message"},"request_id"}` (wire-formats.md §2.10). */
export interface AnthropicErrorBody {
  type: 'error';
  error: AnthropicErrorObject;
  request_id?: string;
}
