import { DomainError, ErrorCode, type TokenUsage } from '@gw/core';
import type { ChatCompletionChunk, ChunkDelta, FinishReason, ReasoningDetail, ToolCallDelta } from '../openai.types';
import { sanitizeToolId } from '../providers/anthropic';
import { sseNamedEvent } from '../sse';
import { isAnthropicDetail, isCarriedForeignDetail, wrapForeignReasoning, wrapReasoningText } from './anthropic-inbound.reasoning';
import { anthropicErrorEvent } from './anthropic-inbound.errors';
import { finishToStopReason } from './anthropic-inbound.response';
import type { AnthropicEventOut, AnthropicMessageOut, AnthropicOutputBlock } from './anthropic-inbound.types';
import { tokenUsageToAnthropic } from './anthropic-inbound.usage';

export interface AnthropicStreamContext {
  /** Message id the client sees (the gateway request id). */
  id: string;
  /** Model name the client sees. */
  model: string;
  /**
   * The provider wants its reasoning text back in tool loops (`ProviderAdapter.reasoningInToolLoop`):
   * the unsigned reasoning of a message that calls tools goes out in a `redacted_thinking` envelope.
   */
  carryReasoning?: boolean;
}

/**
 * One OpenAI tool call. `pending`: known (id, name) but no block yet, its arguments buffered;
 * `live`: its block is the open one and fragments stream as they come; `done`: its block closed.
 */
interface ToolState {
  id: string;
  name: string;
  phase: 'pending' | 'live' | 'done';
  /** Arguments received while pending. */
  args: string;
  /** Its Anthropic content block index, once opened. */
  block?: number;
}

/** Anthropic thinking waiting for its signature, by `reasoning_details[].index`. */
interface PendingThinking {
  text: string;
}

/**
 * OpenAI chunks (any adapter's StreamTransformer output) -> Anthropic stream events, in the order
 * @anthropic-ai/sdk's MessageStream requires (wire-formats.md §2.9, §4.5):
 * `message_start` (with the input usage when already known), then blocks in index order 0..n with
 * exactly one open at a time, then `message_delta` (stop reason and the full final usage, which
 * the SDK overwrites, never adds) and `message_stop`.
 *
 * - Text opens a `text` block; each OpenAI tool call becomes a `tool_use` block whose argument
 *   fragments become `input_json_delta`s. OpenAI fragments are keyed by index, so parallel calls
 *   may interleave (both calls opened, then the arguments of one, then of the other), while
 *   Anthropic blocks cannot: a call's block opens when its arguments start streaming and closes
 *   when it can no longer grow, i.e. when another call's arguments start streaming, text or
 *   another block begins, or the stream ends. Until its block opens a call's arguments are
 *   buffered; a call whose first arguments come in its opening fragment while another call is
 *   streaming (a whole call, as Gemini sends them) waits for that call to end, then goes out
 *   whole. Sequential calls, the common case, stream as they come. Only arguments for a call
 *   whose block was already closed, once another call streamed after it, cannot be expressed:
 *   that is an error, never a silently wrong argument.
 * - Thinking is emitted only when signed: Anthropic-format reasoning is held until its signature
 *   arrives, then sent as one `thinking` block (thinking_delta + signature_delta). Unsigned
 *   reasoning (other providers' summaries) is dropped, except with `carryReasoning`: then it is
 *   collected and, once the message calls a tool, goes out before that tool_use in a
 *   `redacted_thinking` envelope. Redacted thinking and other providers' opaque items become
 *   `redacted_thinking` blocks (see anthropic-inbound.reasoning.ts); the latter wait for the
 *   next non-text block so a text block is never split.
 * - Only choice 0 is translated (Anthropic has no `n`).
 *
 * Usage: pass the transformer's `usage()` with each push and at `end`; the converter never sums.
 * `push` and `end` never throw: chunks that cannot be expressed end the stream with an error event.
 */
export class ChatChunksToAnthropicEvents {
  private started = false;
  private ended = false;
  private nextBlock = 0;
  /** The open block: index and kind; undefined between blocks. */
  private open: { index: number; kind: AnthropicOutputBlock['type']; tool?: number } | undefined;
  /** By OpenAI `tool_calls[].index`. */
  private readonly tools = new Map<number, ToolState>();
  private readonly thinking = new Map<number, PendingThinking>();
  /** Other providers' opaque reasoning waiting to go out as redacted_thinking blocks. */
  private readonly foreign: AnthropicOutputBlock[] = [];
  /** Unsigned reasoning text not yet carried out (`carryReasoning` only). */
  private reasoningText = '';
  private finishReason: FinishReason | null = null;
  private stopSequence: string | undefined;
  private out: AnthropicEventOut[] = [];
  private failed: unknown;

  constructor(private readonly ctx: AnthropicStreamContext) {}

  /** True once `message_start` was produced: from then on errors go in-stream. */
  get hasStarted(): boolean {
    return this.started;
  }

  /**
   * The error with which `push` ended the stream (chunks it could not express), undefined
   * otherwise. The client got an error event, so the caller must record a failure, not a success.
   */
  get failure(): unknown {
    return this.failed;
  }

  push(chunks: ChatCompletionChunk | readonly ChatCompletionChunk[], usage?: TokenUsage): AnthropicEventOut[] {
    const list = Array.isArray(chunks) ? (chunks as readonly ChatCompletionChunk[]) : [chunks as ChatCompletionChunk];
    if (this.ended || list.length === 0) return [];
    this.out = [];
    this.start(usage);
    try {
      for (const chunk of list) {
        for (const choice of chunk.choices) {
          if (choice.index !== 0) continue;
          this.onDelta(choice.delta);
          if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
            this.finishReason = choice.finish_reason;
            this.stopSequence = choice.finish_reason === 'stop' ? choice.stop_sequence : undefined;
          }
        }
      }
    } catch (e) {
      // The events before the problem still go out, then the error ends the stream.
      this.ended = true;
      this.failed = e;
      this.out.push(anthropicErrorEvent(e));
    }
    return this.take();
  }

  /** The upstream stream completed: close the open block, then `message_delta` and `message_stop`. */
  end(usage?: TokenUsage): AnthropicEventOut[] {
    if (this.ended) return [];
    this.out = [];
    this.start(usage);
    this.closeOpen();
    this.flushPendingTools();
    // Reasoning after the last call belongs to the same message; the provider wants it whole.
    if (this.tools.size > 0) this.carryReasoningText();
    this.flushForeign();
    const final = usage === undefined ? { output_tokens: 0 } : tokenUsageToAnthropic(usage);
    const stopReason = finishToStopReason(this.finishReason, this.stopSequence, this.tools.size > 0);
    this.out.push({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: this.stopSequence ?? null }, usage: final });
    this.out.push({ type: 'message_stop' });
    this.ended = true;
    return this.take();
  }

  /**
   * The stream failed after headers: one `event: error` (wire-formats.md §2.9), nothing after it,
   * and no `message_stop` ever (reliability.md I6: a cut stream never looks complete).
   */
  fail(err: unknown): AnthropicEventOut[] {
    if (this.ended) return [];
    this.ended = true;
    return [anthropicErrorEvent(err)];
  }

  private take(): AnthropicEventOut[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private start(usage: TokenUsage | undefined): void {
    if (this.started) return;
    this.started = true;
    const message: AnthropicMessageOut = {
      id: this.ctx.id,
      type: 'message',
      role: 'assistant',
      model: this.ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: startUsage(usage),
    };
    this.out.push({ type: 'message_start', message });
  }

  private onDelta(delta: ChunkDelta): void {
    if (this.ctx.carryReasoning === true && typeof delta.reasoning === 'string') this.reasoningText += delta.reasoning;
    for (const d of delta.reasoning_details ?? []) this.onReasoning(d);
    if (typeof delta.content === 'string' && delta.content !== '') this.onText(delta.content);
    // A refusal is the model's answer: text, as in a non-streamed reply.
    if (typeof delta.refusal === 'string' && delta.refusal !== '') this.onText(delta.refusal);
    for (const tc of delta.tool_calls ?? []) this.onToolCall(tc);
  }

  private onReasoning(d: ReasoningDetail): void {
    if (isCarriedForeignDetail(d)) {
      // Deferred to the next non-text block (or the end), so it never splits a text block in two.
      this.foreign.push({ type: 'redacted_thinking', data: wrapForeignReasoning(d) });
      return;
    }
    if (!isAnthropicDetail(d)) return;
    if (d.type === 'reasoning.encrypted') {
      this.wholeBlock({ type: 'redacted_thinking', data: d.data });
      return;
    }
    if (d.type !== 'reasoning.text') return;
    const key = d.index ?? -1;
    const pending = this.thinking.get(key) ?? { text: '' };
    pending.text += d.text ?? '';
    if (!d.signature) {
      this.thinking.set(key, pending);
      return;
    }
    this.thinking.delete(key);
    const index = this.openBlock({ type: 'thinking', thinking: '', signature: '' });
    // The whole thinking goes out at once: it may only be shown once it is known to be signed.
    if (pending.text !== '') this.out.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: pending.text } });
    this.out.push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: d.signature } });
    this.closeOpen();
  }

  private onText(text: string): void {
    const index = this.open?.kind === 'text' ? this.open.index : this.openBlock({ type: 'text', text: '' });
    this.out.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
  }

  private onToolCall(tc: ToolCallDelta): void {
    let state = this.tools.get(tc.index);
    const args = tc.function?.arguments;
    const hasArgs = typeof args === 'string' && args !== '';
    if (state === undefined) {
      const id = tc.id;
      const name = tc.function?.name;
      if (id === undefined || id === '' || name === undefined || name === '') throw badStream('a tool call started without id or name');
      state = { id: sanitizeToolId(id), name, phase: 'pending', args: hasArgs ? args : '' };
      this.tools.set(tc.index, state);
      // Arguments in the opening fragment go out at once unless another call is streaming: that
      // one may still grow (interleaved openings), so this call waits for it.
      if (hasArgs && this.open?.tool === undefined) this.goLive(tc.index, state);
      return;
    }
    if (!hasArgs) return;
    if (state.phase === 'live' && state.block !== undefined) {
      this.out.push({ type: 'content_block_delta', index: state.block, delta: { type: 'input_json_delta', partial_json: args } });
    } else if (state.phase === 'pending') {
      state.args += args;
      this.goLive(tc.index, state);
    } else {
      throw badStream('tool call arguments arrived after its block was closed (parallel tool calls interleaved within their arguments)');
    }
  }

  /** The call's block opens (closing the open one, which can no longer grow) with what was buffered. */
  private goLive(key: number, state: ToolState): void {
    this.carryReasoningText();
    const index = this.openBlock({ type: 'tool_use', id: state.id, name: state.name, input: {} }, key);
    state.phase = 'live';
    state.block = index;
    if (state.args !== '') this.out.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: state.args } });
    state.args = '';
  }

  /** Calls whose arguments never started streaming, each as a whole block, in index order. */
  private flushPendingTools(): void {
    const pending = [...this.tools].filter(([, s]) => s.phase === 'pending').sort(([a], [b]) => a - b);
    for (const [key, state] of pending) {
      this.goLive(key, state);
      this.closeOpen();
    }
  }

  /** Closes the open block and opens the next one; returns its index. */
  private openBlock(block: AnthropicOutputBlock, tool?: number): number {
    this.closeOpen();
    if (block.type !== 'text') this.flushForeign();
    const index = this.nextBlock++;
    this.out.push({ type: 'content_block_start', index, content_block: block });
    this.open = tool === undefined ? { index, kind: block.type } : { index, kind: block.type, tool };
    return index;
  }

  /** A block whose whole content is in its start event (redacted thinking). */
  private wholeBlock(block: AnthropicOutputBlock): void {
    this.openBlock(block);
    this.closeOpen();
  }

  /** The reasoning collected so far, queued to go out before the next non-text block. */
  private carryReasoningText(): void {
    if (this.reasoningText === '') return;
    this.foreign.push({ type: 'redacted_thinking', data: wrapReasoningText(this.reasoningText) });
    this.reasoningText = '';
  }

  private flushForeign(): void {
    while (this.foreign.length > 0) {
      const block = this.foreign.shift() as AnthropicOutputBlock;
      const index = this.nextBlock++;
      this.out.push({ type: 'content_block_start', index, content_block: block });
      this.out.push({ type: 'content_block_stop', index });
    }
  }

  private closeOpen(): void {
    const open = this.open;
    if (open === undefined) return;
    this.open = undefined;
    if (open.tool !== undefined) {
      const state = this.tools.get(open.tool);
      if (state !== undefined) state.phase = 'done';
    }
    this.out.push({ type: 'content_block_stop', index: open.index });
  }
}

/**
 * The input side as far as known when the first chunk goes out, output 0: Anthropic and Gemini
 * upstreams report their input with the first event, OpenAI-format ones only at the end (then 0
 * here). `message_delta` always carries the complete final usage, which the SDK takes over.
 */
function startUsage(usage: TokenUsage | undefined): AnthropicMessageOut['usage'] {
  if (usage === undefined) return { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 };
  const { output_tokens_details: _details, ...rest } = tokenUsageToAnthropic(usage);
  return { ...rest, output_tokens: 0 };
}

/** Anthropic SSE framing: `event: <type>` + `data: <json>` for every event (the SDK drops unnamed ones). */
export function anthropicEventsToSse(events: readonly AnthropicEventOut[]): string {
  let s = '';
  for (const e of events) s += sseNamedEvent(e.type, e);
  return s;
}

/** Keep-alive the SDK ignores (wire-formats.md §4.5: optional, about every 15 s). */
export const ANTHROPIC_PING_SSE = sseNamedEvent('ping', { type: 'ping' });

function badStream(detail: string): DomainError {
  return new DomainError(ErrorCode.UpstreamBadResponse, `The upstream stream cannot be expressed as Anthropic events: ${detail}`, {
    retryable: false,
    meta: { detail },
  });
}
