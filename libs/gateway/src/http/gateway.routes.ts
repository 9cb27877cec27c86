import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ErrorCode, INVALID_API_KEY_MESSAGE, newRequestId } from '@gw/core';
import { anthropicCountTokensRequest, anthropicToChatRequest, applyReasoningObject, effortWithoutThinking, ProviderRegistry, reasoningExcluded, type ChatRequest, type OutputEffort } from '@gw/llm';
import { traceHeadersOf } from '@gw/observability';
import { KeyCache, type KeyInfo } from '../auth/key-cache';
import { ChatCompletionsService } from '../chat/chat-completions.service';
import { chatRequestSchema } from '../chat/chat-request.schema';
import { AccountHandlers } from '../account/account.handlers';
import { InFlight } from './in-flight';
import { normalizeProviderPreferences } from '../routing/provider-preferences';
import { presentedKey } from './presented-key';
import { AnthropicFormat, OpenAiFormat, type ResponseFormat } from '../chat/response-format';
import { EmbeddingsService } from '../chat/embeddings.service';
import { UsageEstimator } from '../chat/usage-estimator';
import { CountTokensLimiter } from './count-tokens-limiter';
import type { ChatCall } from '../chat/chat-call';

declare module 'fastify' {
  interface FastifyRequest {
    gwRequestId: string;
    gwKey: KeyInfo;
    gwStart: number;
    /** How long authentication took (it runs before the body is read). */
    gwAuthMs: number;
  }
}

/**
 * The data plane's routes, registered as plain Fastify routes inside the Nest app: the hot path
 * pays for no Nest routing, guards, pipes or interceptors (see the benchmark).
 */
@Injectable()
export class GatewayRoutes implements OnModuleInit {
  private readonly countLimiter = new CountTokensLimiter();

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly keys: KeyCache,
    private readonly chat: ChatCompletionsService,
    private readonly embeddings: EmbeddingsService,
    private readonly account: AccountHandlers,
    private readonly inFlight: InFlight,
    private readonly estimator: UsageEstimator,
    private readonly providers: ProviderRegistry,
  ) {}

  onModuleInit(): void {
    const app = this.host.httpAdapter.getInstance<FastifyInstance>();
    const authenticate = this.authenticate.bind(this);
    type ErrorHandler = (err: Error & { code?: string; statusCode?: number; validation?: unknown }, req: FastifyRequest, reply: FastifyReply) => void;
    const errorsAs = (format: ResponseFormat): ErrorHandler => (err, req, reply) => {
      const id = req.gwRequestId ?? newRequestId();
      const d = format.error(toDomain(err), id);
      void reply.status(d.status).headers(d.headers).header('x-request-id', id).send(d.body);
    };
    const errorHandler = errorsAs(new OpenAiFormat());
    const opts = { onRequest: authenticate, errorHandler };

    app.post('/v1/chat/completions', { ...opts, schema: { body: chatRequestSchema } }, (req, reply) => {
      const sent = req.body as ChatRequest;
      refuseGatewaySetFields(sent);
      // OpenRouter's reasoning object becomes the reasoning_effort every adapter reads.
      const body = applyReasoningObject(sent);
      const format = new OpenAiFormat({ includeUsage: body.stream_options?.include_usage === true, excludeReasoning: reasoningExcluded(body) });
      return this.chatCall(req, reply, body, format);
    });
    // Anthropic's Messages format in and out, served by any provider (Claude Code, the Anthropic SDK).
    const anthropic = new AnthropicFormat((provider) => this.providers.get(provider)?.reasoningInToolLoop === true);
    const anthropicOpts = { onRequest: authenticate, errorHandler: errorsAs(anthropic) };
    app.post('/v1/messages', anthropicOpts, (req, reply) =>
      this.chatCall(req, reply, anthropicToChatRequest(req.body), anthropic, effortWithoutThinking(req.body)),
    );
    app.post('/v1/messages/count_tokens', anthropicOpts, (req) => this.countTokens(req));
    // The rest of Anthropic's API (batches, ...) is not served: Anthropic's 404, which its SDK reads.
    app.all('/v1/messages/*', { errorHandler: errorsAs(anthropic) }, (req) => {
      throw new DomainError(ErrorCode.NotFound, `${req.method} ${req.url.split('?')[0]} is not served by the gateway; it serves POST /v1/messages and POST /v1/messages/count_tokens`);
    });
    app.post('/v1/embeddings', opts, (req, reply) => this.trackAborting(req, reply, (signal) =>
      this.embeddings.handle({ key: req.gwKey, body: req.body, requestId: req.gwRequestId, startedAt: req.gwStart, reply, signal, trace: traceHeadersOf(req.headers) }),
    ));
    app.get('/v1/models', { errorHandler }, (req, reply) => this.account.models(req, reply));
    app.get('/v1/credits', opts, (req, reply) => this.account.credits(req, reply));
    app.get('/v1/key', opts, (req, reply) => this.account.key(req, reply));
    app.get('/v1/generation', opts, (req, reply) => this.account.generation(req, reply));
  }

  private chatCall(req: FastifyRequest, reply: FastifyReply, sent: ChatRequest, format: ResponseFormat, outputEffort?: OutputEffort): Promise<void> {
    refuseRoutingOverrides(sent);
    const provider = normalizeProviderPreferences(sent.provider, this.providers);
    const body = provider === sent.provider ? sent : { ...sent, provider };
    return this.trackAborting(req, reply, (signal) =>
      this.chat.handle({
        key: req.gwKey,
        body,
        bodyBytes: Number(req.headers['content-length'] ?? 0) || Buffer.byteLength(JSON.stringify(req.body)),
        requestId: req.gwRequestId,
        startedAt: req.gwStart,
        reply,
        signal,
        format,
        timeouts: timeoutsOf(req),
        trace: traceHeadersOf(req.headers),
        anthropicBeta: anthropicBetaOf(req),
        outputEffort,
      }),
    );
  }

  /**
   * Anthropic's token count of a Messages prompt (`{"input_tokens": N}`), answered by the gateway
   * itself: no provider is called and nothing is charged. The count is the gateway's local one
   * (o200k, tools and images included, as its usage estimates), not the model's own tokenizer.
   */
  private async countTokens(req: FastifyRequest): Promise<{ input_tokens: number }> {
    this.countLimiter.take(req.gwKey, Number(req.headers['content-length'] ?? 0) || Buffer.byteLength(JSON.stringify(req.body ?? null)));
    const usage = await this.estimator.estimate(anthropicCountTokensRequest(req.body), '');
    return { input_tokens: usage.promptTokens };
  }

  /** Runs a handler that is aborted when the client goes away and waited for on shutdown. */
  private trackAborting(req: FastifyRequest, reply: FastifyReply, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
    // The gateway's clock counts authentication and what follows the body's arrival, not the
    // client's upload (authentication runs before the body is read).
    req.gwStart = performance.now() - req.gwAuthMs;
    const controller = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    return this.inFlight.track(run(controller.signal), controller);
  }

  private async authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = performance.now();
    req.gwRequestId = newRequestId();
    reply.header('x-request-id', req.gwRequestId);
    const presented = presentedKey(req);
    const key = presented ? await this.keys.resolve(presented) : null;
    if (!key) throw new DomainError(ErrorCode.InvalidApiKey, INVALID_API_KEY_MESSAGE);
    if (key.kind !== 'inference') throw new DomainError(ErrorCode.Forbidden, 'Management keys cannot call models; use an inference key');
    req.gwKey = key;
    req.gwAuthMs = performance.now() - started;
  }
}

const TIMEOUT_HEADERS = { firstByteMs: 'x-gateway-first-byte-timeout-ms', idleMs: 'x-gateway-idle-timeout-ms', totalMs: 'x-gateway-total-timeout-ms' } as const;

const TIMEOUT_FIELDS = Object.entries(TIMEOUT_HEADERS) as [keyof typeof TIMEOUT_HEADERS, string][];

/** Per-request timeouts from headers (gateway extras, never forwarded upstream). */
function timeoutsOf(req: FastifyRequest): ChatCall['timeouts'] {
  let out: ChatCall['timeouts'];
  for (const [field, header] of TIMEOUT_FIELDS) {
    const raw = req.headers[header];
    if (raw === undefined) continue;
    const ms = Number(raw);
    if (!Number.isInteger(ms) || ms < 100 || ms > 3_600_000) {
      throw new DomainError(ErrorCode.InvalidBody, `${header} must be an integer between 100 and 3600000`, { param: header });
    }
    (out ??= {})[field] = ms;
  }
  return out;
}

/** Anthropic's beta flags: a comma-separated list of names (`interleaved-thinking-2025-05-14, ...`). */
const ANTHROPIC_BETA = /^[A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*$/;

/**
 * The client's `anthropic-beta` header, passed on to Anthropic upstreams (Claude Code and the SDKs
 * turn on features such as interleaved thinking with it; see platformBetasOf); refused with a
 * 400 naming it when it is not a list of flag names, so nothing else rides along upstream.
 */
function anthropicBetaOf(req: FastifyRequest): string | undefined {
  const raw = req.headers['anthropic-beta'];
  if (raw === undefined) return undefined;
  const value = (Array.isArray(raw) ? raw.join(',') : raw).trim();
  if (value === '') return undefined;
  if (value.length > 1000 || !ANTHROPIC_BETA.test(value)) {
    throw new DomainError(ErrorCode.InvalidBody, 'anthropic-beta must be a comma-separated list of beta names', { param: 'anthropic-beta' });
  }
  return value;
}

/**
 * Fields some SDKs and proxies use to pick the upstream or its credentials (LiteLLM's `api_base`,
 * `api_key`, ...). Unknown fields are otherwise passed to OpenAI-family providers, so these would
 * reach the provider with the platform's key: refused, naming the field (reliability T12).
 */
const ROUTING_OVERRIDES = ['api_key', 'api_base', 'base_url', 'api_version', 'extra_headers'] as const;

function refuseRoutingOverrides(body: ChatRequest): void {
  for (const field of ROUTING_OVERRIDES) {
    if (field in body) {
      throw new DomainError(ErrorCode.InvalidBody, `${field} is not accepted: the gateway chooses the provider and its credentials (add your own provider keys under /api/provider-keys)`, { param: field });
    }
  }
}

/**
 * `client_names` is set by the /v1/messages mapping only: a client's own would rename refusals and
 * turn its reasoning_effort into a permission its tenant's policy does not see.
 */
function refuseGatewaySetFields(body: ChatRequest): void {
  if ('client_names' in body) throw new DomainError(ErrorCode.InvalidBody, 'client_names is not accepted: the gateway sets it', { param: 'client_names' });
}

function toDomain(err: Error & { code?: string; statusCode?: number; validation?: unknown }): DomainError {
  if (err instanceof DomainError) return err;
  if (err.validation) {
    const v = (err.validation as { instancePath?: string; params?: { missingProperty?: string; allowedValues?: unknown[] } }[])[0];
    const param = [v?.instancePath?.replace(/^\//, '').replace(/\//g, '.'), v?.params?.missingProperty].filter(Boolean).join('.') || undefined;
    const allowed = v?.params?.allowedValues ? ` (${v.params.allowedValues.join(', ')})` : '';
    return new DomainError(ErrorCode.InvalidBody, `Invalid request body: ${err.message.replace(/^body\/?/, '')}${allowed}`, { param });
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new DomainError(ErrorCode.RequestTooLarge, 'Request body too large');
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new DomainError(ErrorCode.InvalidBody, 'Content-Type must be application/json');
  if (err.statusCode === 400) return new DomainError(ErrorCode.InvalidJson, `Invalid JSON body: ${err.message}`);
  return new DomainError(ErrorCode.Internal, 'Internal error');
}
