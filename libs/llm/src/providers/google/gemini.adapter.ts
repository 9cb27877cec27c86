import type { DomainError } from '@gw/core';
import type { ChatRequest, EmbeddingsRequest } from '../../openai.types';
import type {
  BuildOptions,
  EmbeddingsBuildOptions,
  EmbeddingsContext,
  ParsedCompletion,
  ParsedEmbeddings,
  ProviderAdapter,
  ProviderTarget,
  ResponseContext,
  StreamTransformer,
  UpstreamHttpRequest,
} from '../../provider';
import type { HeaderBag } from '../../upstream-errors';
import { joinUrl } from '../../url';
import { buildGeminiEmbeddings, parseGeminiEmbeddings } from './gemini.embeddings';
import { mapGeminiError } from './gemini.errors';
import { buildGeminiRequest } from './gemini.request';
import { parseGeminiResponse } from './gemini.response';
import { GeminiStream } from './gemini.stream';

/**
 * `v1beta`: recent fields (`responseJsonSchema`, `thinkingConfig`) are safest there
 * (wire-formats.md §3.1). A configured `GEMINI_BASE_URL` must include the version segment.
 */
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

/** Google Gemini API (`generateContent`). https://ai.google.dev/api/generate-content */
export class GeminiAdapter implements ProviderAdapter {
  readonly id = 'google';
  /** OpenRouter's slugs for Google's endpoints of these models (https://openrouter.ai/docs/features/provider-routing). */
  // Not google-vertex: Vertex AI is another service (its own terms and endpoints), which this adapter does not call.
  readonly aliases = ['google-ai-studio'];
  readonly wireFormat = 'gemini' as const;
  readonly envPrefix = 'GEMINI';
  readonly defaultBaseUrl = GEMINI_DEFAULT_BASE_URL;

  buildChatRequest(req: ChatRequest, target: ProviderTarget, opts: BuildOptions): UpstreamHttpRequest {
    const { body, maxTokens } = buildGeminiRequest(this.id, req, target.upstreamModel, opts);
    // Without alt=sse the stream is one incrementally written JSON array, not SSE (§3.1).
    const method = opts.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const out: UpstreamHttpRequest = {
      url: joinUrl(target.baseUrl || this.defaultBaseUrl, `/${modelResource(target.upstreamModel)}:${method}`),
      headers: this.headers(target, opts.stream ? 'text/event-stream' : 'application/json'),
      body: JSON.stringify(body),
    };
    if (maxTokens !== undefined) out.maxOutputTokens = maxTokens;
    return out;
  }

  parseChatResponse(body: unknown, ctx: ResponseContext): ParsedCompletion {
    return parseGeminiResponse(this.id, body, ctx);
  }

  createStreamTransformer(ctx: ResponseContext): StreamTransformer {
    return new GeminiStream(this.id, ctx);
  }

  buildEmbeddingsRequest(req: EmbeddingsRequest, target: ProviderTarget, _opts: EmbeddingsBuildOptions): UpstreamHttpRequest {
    const resource = modelResource(target.upstreamModel);
    const call = buildGeminiEmbeddings(this.id, req, resource);
    return {
      url: joinUrl(target.baseUrl || this.defaultBaseUrl, `/${resource}:${call.method}`),
      headers: this.headers(target, 'application/json'),
      body: JSON.stringify(call.body),
    };
  }

  parseEmbeddingsResponse(body: unknown, ctx: EmbeddingsContext): ParsedEmbeddings {
    return parseGeminiEmbeddings(this.id, body, ctx);
  }

  /** wire-formats.md §4.10: 400 API_KEY_INVALID is an auth failure, 429 RESOURCE_EXHAUSTED and 5xx are retryable. */
  mapError(status: number, body: string, headers: HeaderBag): DomainError {
    return mapGeminiError(this.id, status, body, headers);
  }

  /** The key goes in a header, never in `?key=`: URLs end up in logs (reliability.md I8). */
  private headers(target: ProviderTarget, accept: string): Record<string, string> {
    return { 'content-type': 'application/json', accept, 'x-goog-api-key': target.apiKey };
  }
}

/** `gemini-2.5-flash` -> `models/gemini-2.5-flash`; full resource names (`tunedModels/x`) are kept. */
export function modelResource(upstreamModel: string): string {
  const name = upstreamModel.includes('/') ? upstreamModel : `models/${upstreamModel}`;
  return name.split('/').map(encodeURIComponent).join('/');
}

export const geminiAdapter: ProviderAdapter = new GeminiAdapter();
