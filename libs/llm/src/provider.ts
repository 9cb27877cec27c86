import type { DomainError, TokenUsage } from '@gw/core';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from './openai.types';

/** Where and as whom one attempt calls a provider. */
export interface ProviderTarget {
  baseUrl: string;
  apiKey: string;
  /** The provider's own model id (catalog `upstream_id`). */
  upstreamModel: string;
}

/** A fully built upstream HTTP request (always POST with a JSON body). */
export interface UpstreamHttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /**
   * Extension: the output-token cap actually sent upstream, when one was sent. It can exceed
   * `BuildOptions.maxTokens` (Anthropic thinking needs `budget_tokens < max_tokens`, so the adapter
   * raises it); metering sizes the credit hold from this value, not from the client's.
   */
  maxOutputTokens?: number;
}

export interface BuildOptions {
  stream: boolean;
  /** Output token cap to send upstream (already defaulted from the catalog where required). */
  maxTokens?: number;
  /** Tenant policy for parameters the provider cannot honour. */
  unsupportedParams: 'reject' | 'drop';
  /** The client's `anthropic-beta` flags (comma-separated), passed to Anthropic upstreams only. */
  anthropicBeta?: string;
  /** Anthropic's `output_config.effort` asked without thinking (`/v1/messages`), for Anthropic upstreams only. */
  outputEffort?: OutputEffort;
}

/** Anthropic's `output_config.effort` values. */
export type OutputEffort = 'low' | 'medium' | 'high' | 'xhigh' | 'max';

/** Per-response facts the gateway stamps on what it returns. */
export interface ResponseContext {
  /** Public model name the client sees (`provider/model`). */
  model: string;
  /** Gateway request id, used as the completion id. */
  id: string;
  created: number;
  /** How many choices the request asked for (`n`, default 1): a stream is finished when each has finished. */
  choices?: number;
}

export interface ParsedCompletion {
  completion: ChatCompletion;
  /** Undefined when the upstream reported none. */
  usage?: TokenUsage;
}

/**
 * Incremental translation of one upstream stream into OpenAI chunks. Bytes may arrive split at
 * any offset. `push` and `end` throw a DomainError when the upstream reports an error event or
 * ends without its terminal event (the gateway turns that into a final in-stream error).
 *
 * Ordering guarantee (so the output never depends on how bytes were split): when one `push`
 * decodes valid events and then an error, it returns the chunks of the valid events and throws
 * the error from the next `push` or `end` call. A `push` whose first event is an error throws at
 * once, so an error that precedes any output is seen before anything is committed to the client.
 * `DomainError.details.retryable` is true only if no chunk was returned before the error.
 */
export interface StreamTransformer {
  push(bytes: Uint8Array): ChatCompletionChunk[];
  end(): ChatCompletionChunk[];
  /** Usage seen so far (final after `end`). Usage-only chunks are never emitted by `push`. */
  usage(): TokenUsage | undefined;
  /** True once a finish_reason was emitted for every choice. */
  finished(): boolean;
}

/** The HTTP dialect an upstream speaks. */
export type WireFormat = 'openai' | 'anthropic' | 'gemini';

/** What building an embeddings request needs from the gateway (no streaming, no token cap). */
export type EmbeddingsBuildOptions = Pick<BuildOptions, 'unsupportedParams'>;

/** Per-response facts for embeddings: the client's `encoding_format` decides the vector encoding returned. */
export interface EmbeddingsContext extends ResponseContext {
  /** Default `float`. With `base64`, vectors are returned as base64 of little-endian float32 whatever the upstream sent. */
  encodingFormat?: 'float' | 'base64';
}

export interface ParsedEmbeddings {
  response: EmbeddingsResponse;
  /** Undefined when the upstream reported none (the gateway then estimates). */
  usage?: TokenUsage;
}

export interface ProviderAdapter {
  /** Provider id, the first segment of public model names (`openai`, `anthropic`, ...). */
  readonly id: string;
  /**
   * Extension: the dialect the upstream speaks, so sandbox mode and tests can point every provider
   * at the fake of the matching format without knowing provider names.
   */
  readonly wireFormat: WireFormat;
  /** Environment prefix: `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL`. */
  readonly envPrefix: string;
  /**
   * Extension: other names clients give this provider in routing preferences (OpenRouter's
   * provider slugs), matched case-insensitively like the id (`ProviderRegistry.resolve`).
   */
  readonly aliases?: readonly string[];
  readonly defaultBaseUrl: string;
  /**
   * Extension: the provider wants its own reasoning text back on the assistant messages of the
   * current tool loop (DeepSeek and Moonshot thinking models answer 400 without it). A client
   * format that replays only opaque blocks (Anthropic's, on `/v1/messages`) must then be given
   * that text inside one.
   */
  readonly reasoningInToolLoop?: boolean;
  buildChatRequest(req: ChatRequest, target: ProviderTarget, opts: BuildOptions): UpstreamHttpRequest;
  parseChatResponse(body: unknown, ctx: ResponseContext): ParsedCompletion;
  createStreamTransformer(ctx: ResponseContext): StreamTransformer;
  /**
   * Embeddings (`POST /v1/embeddings`). Both are undefined on adapters whose provider has no
   * embeddings endpoint: the gateway answers those models with a 400 before any upstream call.
   */
  buildEmbeddingsRequest?(req: EmbeddingsRequest, target: ProviderTarget, opts: EmbeddingsBuildOptions): UpstreamHttpRequest;
  parseEmbeddingsResponse?(body: unknown, ctx: EmbeddingsContext): ParsedEmbeddings;
  /** Maps an upstream error response to a DomainError with `retryable` set. */
  mapError(status: number, body: string, headers: Record<string, string | string[] | undefined>): DomainError;
}
