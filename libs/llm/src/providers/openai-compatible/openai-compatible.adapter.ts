import { DomainError, ErrorCode, type TokenUsage } from '@gw/core';
import { usageToOpenAi } from '../../openai-usage';
import { GATEWAY_ONLY_FIELDS, type ChatChoice, type ChatCompletion, type ChatMessage, type ChatRequest } from '../../openai.types';
import type {
  BuildOptions,
  ParsedCompletion,
  ProviderAdapter,
  ProviderTarget,
  ResponseContext,
  StreamTransformer,
  UpstreamHttpRequest,
} from '../../provider';
import { stripUnsupported } from '../../unsupported-params';
import { isRecord, mapErrorPayload, mapUpstreamError, parseUpstreamErrorBody, type HeaderBag } from '../../upstream-errors';
import { joinUrl } from '../../url';
import { resolveSpec, type OpenAiCompatibleSpec, type ResolvedSpec } from './openai-compatible.config';
import { normalizeFinishReason, renameReasoning, takeUsage } from './openai-compatible.normalize';
import { OpenAiCompatibleStream } from './openai-compatible.stream';

/** One adapter class for every OpenAI-compatible vendor; the spec is the only difference. */
export function createOpenAiCompatibleAdapter(spec: OpenAiCompatibleSpec): ProviderAdapter {
  return new OpenAiCompatibleAdapter(resolveSpec(spec));
}

class OpenAiCompatibleAdapter implements ProviderAdapter {
  readonly id: string;
  readonly wireFormat = 'openai' as const;
  readonly envPrefix: string;
  readonly defaultBaseUrl: string;

  constructor(private readonly spec: ResolvedSpec) {
    this.id = spec.id;
    this.envPrefix = spec.envPrefix;
    this.defaultBaseUrl = spec.defaultBaseUrl;
  }

  buildChatRequest(req: ChatRequest, target: ProviderTarget, opts: BuildOptions): UpstreamHttpRequest {
    const spec = this.spec;
    // Shallow copy: unknown client fields pass through (vendor extensions); the gateway's
    // request validation decides what may reach this point.
    const body: Record<string, unknown> = { ...req };
    for (const f of GATEWAY_ONLY_FIELDS) delete body[f];
    for (const f of spec.ignored) delete body[f];
    stripUnsupported(spec.id, body, spec.unsupported, opts.unsupportedParams);

    body.model = target.upstreamModel;
    const clientMax = req.max_completion_tokens ?? req.max_tokens ?? undefined;
    delete body.max_tokens;
    delete body.max_completion_tokens;
    const maxOutputTokens = opts.maxTokens ?? clientMax;
    if (maxOutputTokens !== undefined) body[spec.maxTokensField] = maxOutputTokens;

    delete body.stream_options;
    if (opts.stream) {
      body.stream = true;
      // The gateway bills from upstream usage, so it always asks for it (wire-formats.md rule 8).
      if (spec.streamUsage === 'stream_options') body.stream_options = { include_usage: true };
    } else {
      delete body.stream;
    }

    for (const [from, to] of Object.entries(spec.renames)) {
      if (to !== undefined && body[from] !== undefined) {
        body[to] = body[from];
        delete body[from];
      }
    }
    if (!spec.acceptsReasoningDetails) body.messages = withoutReasoning(req.messages);

    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: opts.stream ? 'text/event-stream' : 'application/json',
      ...spec.extraHeaders,
    };
    if (spec.auth.kind === 'bearer') headers.authorization = `Bearer ${target.apiKey}`;
    else headers[spec.auth.name] = target.apiKey;

    const out: UpstreamHttpRequest = {
      url: joinUrl(target.baseUrl || spec.defaultBaseUrl, spec.chatPath),
      headers,
      body: JSON.stringify(body),
    };
    if (maxOutputTokens !== undefined) out.maxOutputTokens = maxOutputTokens;
    return out;
  }

  parseChatResponse(body: unknown, ctx: ResponseContext): ParsedCompletion {
    if (!isRecord(body)) throw this.badResponse('response is not a JSON object');
    if (body.error !== undefined && body.error !== null) throw mapErrorPayload(this.id, body, { inStream: false, nothingSent: true });
    const choices = body.choices;
    if (!Array.isArray(choices) || choices.length === 0) throw this.badResponse('response has no choices');

    let usage: TokenUsage | undefined = takeUsage(this.spec, body);
    for (const c of choices) {
      if (!isRecord(c) || !isRecord(c.message)) throw this.badResponse('choice without a message');
      if (typeof c.index !== 'number') c.index = 0;
      c.finish_reason = normalizeFinishReason(c.finish_reason) ?? 'stop';
      renameReasoning(this.spec, c.message);
      if (c.usage !== undefined) usage = takeUsage(this.spec, c) ?? usage;
    }

    const completion: ChatCompletion = {
      id: ctx.id,
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
      choices: choices as ChatChoice[],
    };
    if (usage !== undefined) completion.usage = usageToOpenAi(usage);
    if (typeof body.system_fingerprint === 'string') completion.system_fingerprint = body.system_fingerprint;
    if (typeof body.service_tier === 'string') completion.service_tier = body.service_tier;
    const target = completion as unknown as Record<string, unknown>;
    for (const f of this.spec.passthroughFields) if (body[f] !== undefined) target[f] = body[f];
    return usage === undefined ? { completion } : { completion, usage };
  }

  createStreamTransformer(ctx: ResponseContext): StreamTransformer {
    return new OpenAiCompatibleStream(this.spec, ctx);
  }

  mapError(status: number, body: string, headers: HeaderBag): DomainError {
    return mapUpstreamError({ provider: this.id, status, body: parseUpstreamErrorBody(body), headers });
  }

  private badResponse(detail: string): DomainError {
    return new DomainError(ErrorCode.UpstreamBadResponse, `Provider ${this.id} returned an unusable response`, {
      retryable: true,
      meta: { provider: this.id, detail },
    });
  }
}

/** Only copies the messages that carry gateway reasoning fields; the common case allocates nothing. */
function withoutReasoning(messages: ChatMessage[]): ChatMessage[] {
  let copy: ChatMessage[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m.role !== 'assistant' || (m.reasoning === undefined && m.reasoning_details === undefined)) continue;
    copy ??= messages.slice();
    const { reasoning: _r, reasoning_details: _d, ...rest } = m;
    copy[i] = rest;
  }
  return copy ?? messages;
}
