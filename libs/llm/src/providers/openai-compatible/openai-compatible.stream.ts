import type { TokenUsage } from '@gw/core';
import type { ChatCompletionChunk, ChunkChoice } from '../../openai.types';
import type { ResponseContext } from '../../provider';
import type { SseEvent } from '../../sse';
import { SseTransformerBase } from '../../sse-transformer.base';
import { isRecord, mapErrorPayload } from '../../upstream-errors';
import type { ResolvedSpec } from './openai-compatible.config';
import { FINISHED_WITH_ERROR, flattenContentChunks, normalizeFinishReason, renameReasoning, takeUsage } from './openai-compatible.normalize';

/**
 * OpenAI-format upstream stream -> the gateway's chunks (wire-formats.md §1.4). Every chunk gets
 * the gateway's id/model/created; usage is recorded wherever it appears and never forwarded (the
 * gateway emits its own usage chunk when the client asked); `obfuscation` padding is dropped.
 */
export class OpenAiCompatibleStream extends SseTransformerBase {
  private lastUsage: TokenUsage | undefined;
  private readonly seen = new Set<number>();
  private readonly done = new Set<number>();
  /** Per choice: tool call ids seen with the index given to them, for vendors that omit `index`. */
  private readonly toolIndices = new Map<number, { byId: Map<string, number>; next: number; last: number }>();

  constructor(
    private readonly spec: ResolvedSpec,
    private readonly ctx: ResponseContext,
  ) {
    super(spec.id);
  }

  usage(): TokenUsage | undefined {
    return this.lastUsage;
  }

  /** Every choice asked for (and every one seen) has finished: a choice not begun yet counts as running. */
  finished(): boolean {
    return this.seen.size > 0 && this.done.size >= Math.max(this.seen.size, this.ctx.choices ?? 1);
  }

  protected onEvent(ev: SseEvent): void {
    const data = ev.data;
    if (data === '') return;
    if (data === '[DONE]') {
      // A stream with no choice at all is an empty response, not a success (reliability.md T14).
      if (this.seen.size === 0) throw this.malformed('stream ended without any choice');
      // A choice that began and never finished was cut, whatever ends the stream: a proxy that
      // truncates and appends [DONE] must not pass for a complete answer (reliability T18). A
      // choice never begun is a vendor that ignores `n`.
      if (this.done.size < this.seen.size) throw this.incomplete();
      this.terminated = true;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw this.malformed('invalid JSON');
    }
    if (!isRecord(json)) throw this.malformed('event is not an object');
    if (ev.event === 'error' || (json.error !== undefined && json.error !== null)) {
      throw mapErrorPayload(this.provider, ev.event === 'error' && json.error === undefined ? { error: json } : json, {
        inStream: true,
        nothingSent: !this.sentAnything,
      });
    }
    this.onChunk(json);
  }

  protected onEnd(): void {
    if (!this.terminated && !this.finished()) throw this.incomplete();
  }

  private onChunk(raw: Record<string, unknown>): void {
    const usage = takeUsage(this.spec, raw);
    if (usage !== undefined) this.lastUsage = usage;
    const choices = raw.choices;
    if (!Array.isArray(choices) || choices.length === 0) return;
    for (const c of choices) this.normalizeChoice(c);

    const chunk: ChatCompletionChunk = {
      id: this.ctx.id,
      object: 'chat.completion.chunk',
      created: this.ctx.created,
      model: this.ctx.model,
      choices: choices as ChunkChoice[],
    };
    if (typeof raw.system_fingerprint === 'string') chunk.system_fingerprint = raw.system_fingerprint;
    if (typeof raw.service_tier === 'string') chunk.service_tier = raw.service_tier;
    const extra = this.spec.passthroughFields;
    if (extra.length > 0) {
      const target = chunk as unknown as Record<string, unknown>;
      for (const f of extra) if (raw[f] !== undefined) target[f] = raw[f];
    }
    this.emit(chunk);
  }

  private normalizeChoice(c: unknown): void {
    if (!isRecord(c)) throw this.malformed('choice is not an object');
    if (typeof c.index !== 'number') c.index = 0;
    const index = c.index as number;
    this.seen.add(index);
    // Some vendors put the final usage inside the choice.
    if (c.usage !== undefined) {
      const usage = takeUsage(this.spec, c);
      if (usage !== undefined) this.lastUsage = usage;
    }
    const finish = normalizeFinishReason(c.finish_reason);
    // OpenRouter-style `finish_reason: "error"` with no error object: the response failed, and
    // must end as a failed stream (an error event, no [DONE]), never as a finished one.
    if (finish === 'error') throw mapErrorPayload(this.provider, FINISHED_WITH_ERROR, { inStream: true, nothingSent: !this.sentAnything });
    c.finish_reason = finish;
    if (finish !== null) this.done.add(index);
    const delta = c.delta;
    if (!isRecord(delta)) {
      c.delta = {};
      return;
    }
    flattenContentChunks(delta, true);
    renameReasoning(this.spec, delta);
    // Some vendors pad every delta with `tool_calls: []`; an empty list only confuses accumulators.
    const calls = delta.tool_calls;
    if (Array.isArray(calls) && calls.length === 0) delete delta.tool_calls;
    else if (Array.isArray(calls)) this.indexToolCalls(index, calls);
  }

  /**
   * Every tool call delta gets an `index` (OpenAI's SDK refuses one without, and calls would
   * merge): some vendors omit it (Mistral). A new id opens the next call, a fragment without id
   * or index continues the last one.
   */
  private indexToolCalls(choice: number, calls: unknown[]): void {
    let s = this.toolIndices.get(choice);
    if (s === undefined) {
      s = { byId: new Map(), next: 0, last: -1 };
      this.toolIndices.set(choice, s);
    }
    for (const tc of calls) {
      if (!isRecord(tc)) continue;
      const id = typeof tc.id === 'string' && tc.id !== '' ? tc.id : undefined;
      let i: number;
      if (typeof tc.index === 'number') i = tc.index;
      else if (id !== undefined) i = s.byId.get(id) ?? s.next;
      else i = s.last >= 0 ? s.last : s.next;
      tc.index = i;
      if (id !== undefined && !s.byId.has(id)) s.byId.set(id, i);
      s.next = Math.max(s.next, i + 1);
      s.last = i;
    }
  }
}
