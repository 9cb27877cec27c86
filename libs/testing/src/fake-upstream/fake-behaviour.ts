/**
 * What a fake upstream does for one request. Every field is optional: an empty behaviour is a
 * healthy, fast, deterministic reply. Behaviours come (highest first) from the `x-fake-behaviour`
 * request header (JSON), then the queue (`enqueue`), then the server defaults.
 */
export interface FakeBehaviour {
  // ---- reply content ----
  /** Reply text. Default `Hello from the fake upstream.` */
  text?: string;
  /** Reply with the text of the last user message instead of `text`. */
  echo?: boolean;
  /** How many content deltas the text is cut into (on word boundaries). Default 4. */
  deltas?: number;
  /** Reported completion/output tokens (includes reasoning). Default: words of text + reasoning. */
  completionTokens?: number;
  /** Reported total prompt tokens, cached and cache writes included. Default: ceil(request bytes / 4). */
  promptTokens?: number;
  /** Cache reads (part of promptTokens). */
  cachedTokens?: number;
  /** Cache writes (part of promptTokens). */
  cacheWriteTokens?: number;
  /** The part of the cache writes kept for an hour (Anthropic's `cache_creation` split). */
  cacheWrite1hTokens?: number;
  /** The answer ended on this stop sequence (Anthropic: `stop_reason: "stop_sequence"`; OpenAI: `stop`). */
  stopSequence?: string;
  /** Reasoning/thinking tokens (part of completionTokens). Default: words of `thinking`. */
  reasoningTokens?: number;
  /** Reply with tool calls (finish reason `tool_calls` / stop reason `tool_use`). */
  toolCalls?: FakeToolCall[];
  /** Reasoning text: Anthropic thinking block, OpenAI-format `delta.reasoning`. */
  thinking?: string;
  /** Anthropic thinking signature. Default `fake-signature`. */
  signature?: string;
  /** Raw finish/stop reason to report (provider's own spelling). */
  finishReason?: string;
  /** Model to report. Default: the requested model. */
  model?: string;
  /** Report the full reply even when max_tokens is smaller (a misbehaving upstream). */
  ignoreMaxTokens?: boolean;
  /**
   * OpenAI streams: where usage goes. `final-chunk` (a `choices: []` chunk), `last-choice-chunk`
   * (on the finish chunk) or `none`. Default: `final-chunk` when the request set
   * `stream_options.include_usage`, otherwise `none` (OpenAI's rule).
   */
  usage?: 'final-chunk' | 'last-choice-chunk' | 'none';
  /** OpenAI streams: add the `obfuscation` padding field to chunks. */
  obfuscation?: boolean;
  /** OpenAI streams: start with a `: OPENROUTER PROCESSING` comment. */
  comments?: boolean;
  /** OpenAI streams: end without `data: [DONE]`. */
  omitDone?: boolean;
  /** Anthropic streams: interleave `ping` events. */
  pings?: boolean;
  /** Anthropic streams: give tool input whole in content_block_start, with no input_json_delta. */
  toolInputInStart?: boolean;

  // ---- faults ----
  /** Answer with this HTTP status and the provider's error body (no stream). */
  status?: number;
  /** Provider error `type` for status or in-stream errors. Default per status. */
  errorType?: string;
  errorMessage?: string;
  /** OpenAI error `code`. */
  errorCode?: string | number;
  /** `Retry-After` header value (seconds or a date). */
  retryAfter?: number | string;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Send this body verbatim (with `status` or 200) instead of a generated one. */
  rawBody?: string;
  /** Wait before sending headers. */
  headerDelayMs?: number;
  /** Wait between stream events. */
  chunkDelayMs?: number;
  /** Streams: stop after this many events (see cutMode). */
  cutAfterEvents?: number;
  /**
   * `destroy` (socket destroyed, default), `end` (clean EOF without terminal event), `mid-event`
   * (half an event, then destroyed), `keep-alive` (a stall: the connection stays open and only
   * keep-alives follow, every `keepAliveMs`, in the provider's form: a comment, Anthropic's `ping`).
   */
  cutMode?: 'destroy' | 'end' | 'mid-event' | 'keep-alive';
  /** With `cutMode: 'keep-alive'`: the time between keep-alives. Default 100. */
  keepAliveMs?: number;
  /** Streams: an in-band error event after this many events, then end (no terminal event). */
  errorAfterEvents?: number;
  /** Streams: an invalid-JSON event after this many events, then the rest of the stream. */
  malformedAfterEvents?: number;
  /** How many requests this queued behaviour serves. Default 1. */
  times?: number;
}

export interface FakeToolCall {
  id?: string;
  name: string;
  /** Object (serialised) or raw JSON text. */
  arguments?: Record<string, unknown> | string;
}

export const DEFAULT_REPLY = 'Hello from the fake upstream.';

export interface ReplyPlan {
  text: string;
  /** Text cut into deltas; empty when there is no text. */
  deltas: string[];
  thinking: string;
  thinkingDeltas: string[];
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  promptTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  stopSequence?: string;
  /** `stop` | `length` | `tool_calls`, or the behaviour's raw override. */
  finish: string;
  overridden: boolean;
}

export interface PlanInput {
  lastUserText: string;
  requestBytes: number;
  maxTokens?: number;
  /** Request ordinal, for deterministic ids. */
  seq: number;
}

/** Words with their trailing whitespace, so joining pieces gives back the text exactly. */
export function words(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text === '' ? [] : [text]);
}

/** Cuts pieces into at most `n` contiguous groups of near-equal size. */
export function group(pieces: string[], n: number): string[] {
  const k = Math.max(1, Math.min(n, pieces.length));
  if (pieces.length === 0) return [];
  const out: string[] = [];
  for (let g = 0; g < k; g++) {
    const from = Math.floor((g * pieces.length) / k);
    const to = Math.floor(((g + 1) * pieces.length) / k);
    out.push(pieces.slice(from, to).join(''));
  }
  return out;
}

export function planReply(b: FakeBehaviour, input: PlanInput): ReplyPlan {
  const toolCalls = (b.toolCalls ?? []).map((t, i) => ({
    id: t.id ?? `call_fake_${input.seq}_${i}`,
    name: t.name,
    arguments: typeof t.arguments === 'string' ? t.arguments : JSON.stringify(t.arguments ?? {}),
  }));
  const fullText = b.echo ? input.lastUserText : (b.text ?? (toolCalls.length > 0 ? '' : DEFAULT_REPLY));
  const pieces = words(fullText);
  const thinking = b.thinking ?? '';
  const reasoningTokens = b.reasoningTokens ?? words(thinking).length;
  const fullCompletion = b.completionTokens ?? pieces.length + reasoningTokens + toolCalls.length * 8;
  const cap = b.ignoreMaxTokens ? undefined : input.maxTokens;
  const truncated = cap !== undefined && fullCompletion > cap;
  const completionTokens = truncated ? cap : fullCompletion;
  const keptPieces = truncated && fullCompletion > 0 ? pieces.slice(0, Math.floor((pieces.length * cap) / fullCompletion)) : pieces;
  const text = keptPieces.join('');
  const deltaCount = b.deltas ?? 4;
  return {
    text,
    deltas: group(keptPieces, deltaCount),
    thinking,
    thinkingDeltas: group(words(thinking), deltaCount),
    toolCalls,
    promptTokens: b.promptTokens ?? Math.max(1, Math.ceil(input.requestBytes / 4)),
    cachedTokens: b.cachedTokens ?? 0,
    cacheWriteTokens: b.cacheWriteTokens ?? 0,
    cacheWrite1hTokens: Math.min(b.cacheWrite1hTokens ?? 0, b.cacheWriteTokens ?? 0),
    stopSequence: b.stopSequence,
    completionTokens,
    reasoningTokens: Math.min(reasoningTokens, completionTokens),
    finish: b.finishReason ?? (truncated ? 'length' : toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    overridden: b.finishReason !== undefined,
  };
}

/** Splits a tool's argument JSON into two fragments, as upstreams stream them. */
export function argumentFragments(args: string): string[] {
  if (args.length < 2) return [args];
  const mid = Math.floor(args.length / 2);
  return [args.slice(0, mid), args.slice(mid)];
}

/** Applies malformed and in-band error injections to an event list (every fake format). */
export function inject(
  events: string[],
  b: FakeBehaviour,
  format: {
    defaultType: string;
    errorEvent: (type: string, message: string, code: string | number | null) => string;
    malformedEvent: string;
  },
): string[] {
  const { errorEvent, malformedEvent } = format;
  let out = events;
  if (b.malformedAfterEvents !== undefined) {
    const at = Math.min(b.malformedAfterEvents, out.length);
    out = [...out.slice(0, at), malformedEvent, ...out.slice(at)];
  }
  if (b.errorAfterEvents !== undefined) {
    const at = Math.min(b.errorAfterEvents, out.length);
    out = [...out.slice(0, at), errorEvent(b.errorType ?? format.defaultType, b.errorMessage ?? 'The server had an error while processing your request.', b.errorCode ?? null)];
  }
  return out;
}
