import { describeError, type TokenUsage } from '@gw/core';
import {
  ChatChunksToAnthropicEvents,
  anthropicEventsToSse,
  chatCompletionToAnthropic,
  toAnthropicError,
  type ChatChoice,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ReasoningDetail,
} from '@gw/llm';
import { usageJson } from '../http/replies';

/** An error as the client sees it before any byte was sent. */
export interface ClientError {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface StreamContext {
  id: string;
  model: string;
  created: number;
  provider: string;
}

/** How one stream is written to the client, chunk by chunk, in the client's wire format. */
export interface StreamWriter {
  chunks(chunks: ChatCompletionChunk[], usage: TokenUsage | undefined): string;
  /** The clean ending (terminal event seen): usage and the format's end marker. */
  done(usage: TokenUsage, costMicros: bigint): string;
  /** The ending after an error once bytes were sent: a final error event, never an end marker. */
  error(err: unknown): string;
  /**
   * Set once `chunks` ended the stream itself with an error event (chunks the client's format
   * cannot express): the request failed, and is recorded as such, whatever the upstream did.
   */
  failure?(): unknown;
  /** The client asked not to see reasoning (`reasoning.exclude`): reasoning alone is no output it received. */
  hidesReasoning?: boolean;
}

/**
 * The client-facing wire format of a request: OpenAI's for /v1/chat/completions, Anthropic's for
 * /v1/messages. The routing, money and upstream path in between is the same canonical one.
 */
export interface ResponseFormat {
  readonly endpoint: string;
  error(err: unknown, requestId: string): ClientError;
  body(completion: ChatCompletion, usage: TokenUsage | undefined, costMicros: bigint, provider: string): unknown;
  stream(ctx: StreamContext): StreamWriter;
}

export interface OpenAiFormatOptions {
  /** `stream_options.include_usage`: a final usage chunk, and `usage: null` on every other chunk. */
  includeUsage?: boolean;
  /** `reasoning.exclude`: the answer carries no reasoning (the model still reasons, and its tokens are billed). */
  excludeReasoning?: boolean;
}

export class OpenAiFormat implements ResponseFormat {
  readonly endpoint = 'chat.completions';
  private readonly includeUsage: boolean;
  private readonly excludeReasoning: boolean;

  constructor(opts: OpenAiFormatOptions = {}) {
    this.includeUsage = opts.includeUsage === true;
    this.excludeReasoning = opts.excludeReasoning === true;
  }

  error(err: unknown): ClientError {
    return describeError(err);
  }

  body(completion: ChatCompletion, usage: TokenUsage | undefined, costMicros: bigint, provider: string): unknown {
    const choices = this.excludeReasoning ? completion.choices.map(withoutMessageReasoning) : completion.choices;
    return { ...completion, choices, provider, usage: usage ? usageJson(usage, costMicros) : undefined };
  }

  stream(ctx: StreamContext): StreamWriter {
    const nullUsage = this.includeUsage;
    const exclude = this.excludeReasoning;
    return {
      hidesReasoning: exclude,
      chunks: (chunks) => {
        let text = '';
        for (const c of chunks) {
          if (exclude && !stripReasoning(c)) continue;
          // "All other chunks will also include a usage field, but with a null value" (OpenAI's
          // stream_options.include_usage); a constant field, so no cost worth a second code path.
          if (nullUsage) c.usage = null;
          text += `data: ${JSON.stringify(c)}\n\n`;
        }
        return text;
      },
      done: (usage, cost) => {
        if (!this.includeUsage) return 'data: [DONE]\n\n';
        const chunk = { id: ctx.id, object: 'chat.completion.chunk', created: ctx.created, model: ctx.model, provider: ctx.provider, choices: [], usage: usageJson(usage, cost) };
        return `data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`;
      },
      // One final chunk carrying both: the error object is what SDKs raise, and a choice with
      // finish_reason "error" (as OpenRouter sends) ends the choice for clients that only read choices.
      error: (err) => {
        const chunk = {
          id: ctx.id,
          object: 'chat.completion.chunk',
          created: ctx.created,
          model: ctx.model,
          provider: ctx.provider,
          choices: [{ index: 0, delta: {}, finish_reason: 'error' }],
          ...(nullUsage ? { usage: null } : {}),
          ...describeError(err).body,
        };
        return `data: ${JSON.stringify(chunk)}\n\n`;
      },
    };
  }
}

function withoutMessageReasoning(c: ChatChoice): ChatChoice {
  if (c.message.reasoning === undefined && c.message.reasoning_details === undefined) return c;
  const { reasoning: _r, reasoning_details: details, ...message } = c.message;
  const kept = opaqueOnly(details);
  return { ...c, message: kept ? { ...message, reasoning_details: kept } : message };
}

/**
 * What `exclude` keeps of reasoning details: the opaque state a tool loop must echo (Gemini's
 * thought signatures, Claude's signed and redacted thinking), without any readable text. Without
 * it the next turn is refused (Gemini 3: a function call missing its thought signature) or loses
 * its thinking.
 */
function opaqueOnly(details: ReasoningDetail[] | undefined): ReasoningDetail[] | undefined {
  if (!details) return undefined;
  const kept: ReasoningDetail[] = [];
  for (const d of details) {
    if (d.type === 'reasoning.encrypted') kept.push(d);
    else if (d.type === 'reasoning.text' && d.signature) kept.push({ ...d, text: '' });
  }
  return kept.length > 0 ? kept : undefined;
}

/**
 * Takes the reasoning out of a chunk's deltas (mutates; the chunk is written once). False when
 * the chunk carried reasoning and nothing else is left to say, so it is not sent at all.
 */
function stripReasoning(c: ChatCompletionChunk): boolean {
  let stripped = false;
  for (const choice of c.choices) {
    const d = choice.delta;
    if (d.reasoning === undefined && d.reasoning_details === undefined) continue;
    d.reasoning = undefined;
    d.reasoning_details = opaqueOnly(d.reasoning_details);
    stripped = true;
  }
  if (!stripped) return true;
  return c.choices.some((ch) => ch.finish_reason !== null || (ch.logprobs ?? null) !== null || ch.stop_sequence !== undefined || Object.values(ch.delta).some((v) => v !== undefined));
}

export class AnthropicFormat implements ResponseFormat {
  readonly endpoint = 'messages';

  /**
   * `reasoningInToolLoop(provider)`: whether that provider wants its reasoning text back in tool
   * loops (`ProviderAdapter.reasoningInToolLoop`); Anthropic clients then carry it in an envelope.
   */
  constructor(private readonly reasoningInToolLoop: (provider: string) => boolean = () => false) {}

  error(err: unknown, requestId: string): ClientError {
    return toAnthropicError(err, requestId);
  }

  body(completion: ChatCompletion, usage: TokenUsage | undefined, _costMicros: bigint, provider: string): unknown {
    return chatCompletionToAnthropic(completion, usage, { carryReasoning: this.reasoningInToolLoop(provider) });
  }

  stream(ctx: StreamContext): StreamWriter {
    const conv = new ChatChunksToAnthropicEvents({ id: ctx.id, model: ctx.model, carryReasoning: this.reasoningInToolLoop(ctx.provider) });
    return {
      chunks: (chunks, usage) => anthropicEventsToSse(conv.push(chunks, usage)),
      done: (usage) => anthropicEventsToSse(conv.end(usage)),
      error: (err) => anthropicEventsToSse(conv.fail(err)),
      failure: () => conv.failure,
    };
  }
}
