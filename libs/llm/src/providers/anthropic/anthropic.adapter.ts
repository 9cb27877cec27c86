import type { DomainError } from '@gw/core';
import type { ChatRequest } from '../../openai.types';
import type {
  BuildOptions,
  ParsedCompletion,
  ProviderAdapter,
  ProviderTarget,
  ResponseContext,
  StreamTransformer,
  UpstreamHttpRequest,
} from '../../provider';
import { mapUpstreamError, parseUpstreamErrorBody, type HeaderBag } from '../../upstream-errors';
import { joinUrl } from '../../url';
import { buildAnthropicRequest } from './anthropic.request';
import { parseAnthropicResponse } from './anthropic.response';
import { AnthropicStream } from './anthropic.stream';

/**
 * The version decides which parameters are legal: `2026-10-21` (the SDK 1.x default) rejects
 * temperature/top_p/top_k outright, so the gateway pins the classic one (wire-formats.md §2.1).
 */
export const ANTHROPIC_API_VERSION = '2023-06-01';

/** Anthropic Messages API. https://platform.claude.com/docs/en/api/messages */
export class AnthropicAdapter implements ProviderAdapter {
  readonly id = 'anthropic';
  readonly wireFormat = 'anthropic' as const;
  readonly envPrefix = 'ANTHROPIC';
  readonly defaultBaseUrl = 'https://api.anthropic.com';

  buildChatRequest(req: ChatRequest, target: ProviderTarget, opts: BuildOptions): UpstreamHttpRequest {
    const { body, maxTokens } = buildAnthropicRequest(this.id, req, target.upstreamModel, opts);
    const base = target.baseUrl || this.defaultBaseUrl;
    // Accept a configured base with or without the version segment.
    const url = base.replace(/\/+$/, '').endsWith('/v1') ? joinUrl(base, '/messages') : joinUrl(base, '/v1/messages');
    return {
      url,
      headers: {
        'content-type': 'application/json',
        accept: opts.stream ? 'text/event-stream' : 'application/json',
        'x-api-key': target.apiKey,
        'anthropic-version': ANTHROPIC_API_VERSION,
        ...(opts.anthropicBeta ? { 'anthropic-beta': opts.anthropicBeta } : {}),
      },
      body: JSON.stringify(body),
      maxOutputTokens: maxTokens,
    };
  }

  parseChatResponse(body: unknown, ctx: ResponseContext): ParsedCompletion {
    return parseAnthropicResponse(this.id, body, ctx);
  }

  createStreamTransformer(ctx: ResponseContext): StreamTransformer {
    return new AnthropicStream(this.id, ctx);
  }

  /** wire-formats.md §4.10; 529 `overloaded_error` becomes a retryable UpstreamUnavailable (503). */
  mapError(status: number, body: string, headers: HeaderBag): DomainError {
    return mapUpstreamError({ provider: this.id, status, body: parseUpstreamErrorBody(body), headers });
  }
}

export const anthropicAdapter: ProviderAdapter = new AnthropicAdapter();
