import type { TokenUsage } from '@gw/core';
import type { ChatCompletionChunk, ChoiceLogprobs, ChunkDelta, FinishReason } from '../../openai.types';
import type { ResponseContext } from '../../provider';
import type { SseEvent } from '../../sse';
import { SseTransformerBase } from '../../sse-transformer.base';
import { isRecord, mapErrorPayload } from '../../upstream-errors';
import {
  failedToolCall,
  geminiUsageToTokenUsage,
  hasUsageCounts,
  isFailedToolCall,
  mapFinishReason,
  mapLogprobs,
  readPart,
  signatureDetail,
} from './gemini.response';
import type { GeminiCandidate, GeminiUsageMetadata } from './gemini.types';

/** Per-candidate state (one OpenAI choice each). */
interface CandidateState {
  started: boolean;
  finished: boolean;
  /** Any functionCall so far: STOP then means `tool_calls` (wire-formats.md rule 6). */
  sawToolCall: boolean;
  tools: number;
  reasonings: number;
  /** Content, reasoning or a call was emitted for this candidate. */
  produced: boolean;
}

/**
 * Gemini `streamGenerateContent?alt=sse` -> OpenAI chunks (wire-formats.md §3.7, §4.5). Every
 * event is a whole GenerateContentResponse fragment; there is no terminal event, so the stream is
 * complete only if every candidate reported a finishReason before EOF. Function calls arrive
 * whole and go out as one complete tool-call delta, with their thoughtSignature in
 * `reasoning_details`. `usageMetadata` is a running total: the latest wins.
 */
export class GeminiStream extends SseTransformerBase {
  private readonly candidates = new Map<number, CandidateState>();
  private rawUsage: GeminiUsageMetadata | undefined;

  constructor(
    provider: string,
    private readonly ctx: ResponseContext,
  ) {
    super(provider);
  }

  usage(): TokenUsage | undefined {
    return this.rawUsage === undefined ? undefined : geminiUsageToTokenUsage(this.rawUsage);
  }

  /** Every candidate asked for (`n`) and every one seen has finished: one not begun yet is still running. */
  finished(): boolean {
    if (this.candidates.size === 0 || this.candidates.size < (this.ctx.choices ?? 1)) return false;
    for (const c of this.candidates.values()) if (!c.finished) return false;
    return true;
  }

  protected onEnd(): void {
    if (!this.finished()) throw this.incomplete();
  }

  protected onEvent(ev: SseEvent): void {
    if (ev.data === '') return;
    let json: unknown;
    try {
      json = JSON.parse(ev.data);
    } catch {
      throw this.malformed('invalid JSON');
    }
    if (!isRecord(json)) throw this.malformed('event is not an object');
    if (json.error !== undefined && json.error !== null) {
      throw mapErrorPayload(this.provider, json, { inStream: true, nothingSent: !this.sentAnything });
    }
    if (hasUsageCounts(json.usageMetadata)) this.rawUsage = json.usageMetadata;

    const candidates = json.candidates;
    if (!Array.isArray(candidates) || candidates.length === 0) {
      const feedback = json.promptFeedback;
      // A blocked prompt: no candidates at all, reported in the first chunk (§3.5).
      if (isRecord(feedback) && typeof feedback.blockReason === 'string') {
        // The prompt is blocked for every candidate asked for.
        for (let i = 0; i < (this.ctx.choices ?? 1); i++) {
          const state = this.state(i);
          if (!state.finished) this.finish(i, state, 'content_filter');
        }
      }
      return;
    }
    candidates.forEach((c, position) => {
      if (!isRecord(c)) throw this.malformed('candidate is not an object');
      const cand = c as GeminiCandidate;
      this.onCandidate(typeof cand.index === 'number' ? cand.index : position, cand);
    });
  }

  private onCandidate(index: number, c: GeminiCandidate): void {
    const state = this.state(index);
    if (state.finished) return;
    let logprobs: ChoiceLogprobs | undefined = mapLogprobs(c.logprobsResult);
    const parts = isRecord(c.content) && Array.isArray(c.content.parts) ? c.content.parts : [];
    for (const part of parts) {
      const m = readPart(part, this.ctx.id, index, state.tools);
      const delta: ChunkDelta = {};
      if (m.kind === 'text' && m.text !== '') delta.content = m.text;
      else if (m.kind === 'thought' && m.text !== '') delta.reasoning = m.text;
      else if (m.kind === 'call') {
        delta.tool_calls = [{ index: state.tools++, id: m.call.id, type: 'function', function: m.call.function }];
        state.sawToolCall = true;
      }
      if (m.signature !== undefined) delta.reasoning_details = [signatureDetail(m.signature, m.kind === 'call' ? m.call.id : null, state.reasonings++)];
      if (Object.keys(delta).length === 0) continue;
      if (delta.content !== undefined || delta.reasoning !== undefined || delta.tool_calls !== undefined) state.produced = true;
      this.emitDelta(index, state, delta, delta.content !== undefined ? logprobs : undefined);
      if (delta.content !== undefined) logprobs = undefined;
    }
    // FINISH_REASON_UNSPECIFIED is a finish too (`stop`, §4.4), as in a non-streamed answer.
    if (typeof c.finishReason === 'string' && c.finishReason !== '') {
      if (!state.produced && isFailedToolCall(c.finishReason)) throw failedToolCall(this.provider, c.finishReason, !this.sentAnything);
      this.finish(index, state, mapFinishReason(c.finishReason, state.sawToolCall));
    }
  }

  private state(index: number): CandidateState {
    let s = this.candidates.get(index);
    if (s === undefined) {
      s = { started: false, finished: false, sawToolCall: false, tools: 0, reasonings: 0, produced: false };
      this.candidates.set(index, s);
    }
    return s;
  }

  private ensureStarted(index: number, state: CandidateState): void {
    if (state.started) return;
    state.started = true;
    this.emit(this.chunk(index, { role: 'assistant', content: '' }, null));
  }

  private emitDelta(index: number, state: CandidateState, delta: ChunkDelta, logprobs?: ChoiceLogprobs): void {
    this.ensureStarted(index, state);
    const chunk = this.chunk(index, delta, null);
    if (logprobs !== undefined) chunk.choices[0].logprobs = logprobs;
    this.emit(chunk);
  }

  private finish(index: number, state: CandidateState, reason: FinishReason): void {
    this.ensureStarted(index, state);
    state.finished = true;
    this.emit(this.chunk(index, {}, reason));
  }

  private chunk(index: number, delta: ChunkDelta, finish: FinishReason | null): ChatCompletionChunk {
    return {
      id: this.ctx.id,
      object: 'chat.completion.chunk',
      created: this.ctx.created,
      model: this.ctx.model,
      choices: [{ index, delta, finish_reason: finish }],
    };
  }
}
