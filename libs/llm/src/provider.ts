import type { DomainError, TokenUsage } from '@gw/core';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from './openai.types';

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
}

export interface BuildOptions {
  stream: boolean;
  /** Output token cap to send upstream (already defaulted from the catalog where required). */
  maxTokens?: number;
  /** Tenant policy for parameters the provider cannot honour. */
  unsupportedParams: 'reject' | 'drop';
}

/** Per-response facts the gateway stamps on what it returns. */
export interface ResponseContext {
  /** Public model name the client sees (`provider/model`). */
  model: string;
  /** Gateway request id, used as the completion id. */
  id: string;
  created: number;
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
 */
export interface StreamTransformer {
  push(bytes: Uint8Array): ChatCompletionChunk[];
  end(): ChatCompletionChunk[];
  /** Usage seen so far (final after `end`). Usage-only chunks are never emitted by `push`. */
  usage(): TokenUsage | undefined;
  /** True once a finish_reason was emitted for every choice. */
  finished(): boolean;
}

export interface ProviderAdapter {
  /** Provider id, the first segment of public model names (`openai`, `anthropic`, ...). */
  readonly id: string;
  /** Environment prefix: `<PREFIX>_API_KEY`, `<PREFIX>_BASE_URL`. */
  readonly envPrefix: string;
  readonly defaultBaseUrl: string;
  buildChatRequest(req: ChatRequest, target: ProviderTarget, opts: BuildOptions): UpstreamHttpRequest;
  parseChatResponse(body: unknown, ctx: ResponseContext): ParsedCompletion;
  createStreamTransformer(ctx: ResponseContext): StreamTransformer;
  /** Maps an upstream error response to a DomainError with `retryable` set. */
  mapError(status: number, body: string, headers: Record<string, string | string[] | undefined>): DomainError;
}
