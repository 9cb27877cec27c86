import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode, describeError, statusOf, type TokenUsage } from '@gw/core';
import { embeddingInputs, type EmbeddingsRequest } from '@gw/llm';
import type { TraceHeaders } from '@gw/observability';
import { costMicros, percentToBps, promptTokenBound, worstCaseMicros } from '@gw/metering';
import type { KeyInfo } from '../auth/key-cache';
import { CatalogCache, catalogNotLoaded } from '../catalog/catalog-cache';
import { ProviderEndpoints } from '../upstream/provider-endpoints';
import { UpstreamClient, type UpstreamResponse } from '../upstream/upstream.client';
import { PlatformCapGate, type CapSlot } from '../routing/platform-cap-gate';
import { TenantContextCache } from '../tenant/tenant-context.cache';
import { modelAllowed, sizeEstimateOf, type Candidate } from './chat-plan';
import { attemptOf, finalErrorOf } from './attempt-failures';
import type { AttemptRecord } from './usage-event';
import { backoffMs, RETRIES_PER_TARGET, RetryBudget } from '../routing/retry-policy';
import { cutByShutdown } from '../http/in-flight';
import { UsageEstimator } from './usage-estimator';
import { Reservations } from './reservation';
import { Settlement, type SettleContext } from './settlement';
import { usageJson } from '../http/replies';

export interface EmbeddingsCall {
  key: KeyInfo;
  body: unknown;
  requestId: string;
  startedAt: number;
  reply: FastifyReply;
  signal: AbortSignal;
  /** The client's W3C trace context. */
  trace?: TraceHeaders;
}

/** POST /v1/embeddings: the same money path as chat (hold, call, settle once), input tokens only. */
@Injectable()
export class EmbeddingsService {
  private readonly markupBps: bigint;
  private readonly maxResponseBytes: number;
  private readonly budget = new RetryBudget();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly catalog: CatalogCache,
    private readonly endpoints: ProviderEndpoints,
    private readonly upstream: UpstreamClient,
    private readonly reservations: Reservations,
    private readonly settlement: Settlement,
    private readonly tenants: TenantContextCache,
    private readonly caps: PlatformCapGate,
    private readonly estimator: UsageEstimator,
  ) {
    this.markupBps = percentToBps(config.PLATFORM_MARKUP_PERCENT);
    this.maxResponseBytes = config.UPSTREAM_MAX_RESPONSE_BYTES;
  }

  async handle(call: EmbeddingsCall): Promise<void> {
    const body = validate(call.body);
    const ctx: SettleContext = { key: call.key, requestId: call.requestId, endpoint: 'embeddings', requestedModel: body.model, stream: false, endUser: body.user, trace: call.trace };
    const model = this.catalog.get(body.model);
    const endpoint = model ? this.endpoints.get(model.provider) : undefined;
    let slot: CapSlot | undefined;
    /** Set once the hold is taken: stops its renewal. */
    let stopRenewing: (() => void) | undefined;
    /** Set while a call is with the provider: a client that leaves then pays for the input it read. */
    let withProvider = false;
    const attempts: AttemptRecord[] = [];
    let retrySlot = false;
    this.budget.requestStarted();
    try {
      if (!model) throw this.catalog.loaded ? new DomainError(ErrorCode.ModelNotFound, `Unknown model: ${body.model}`, { param: 'model' }) : catalogNotLoaded();
      if (!modelAllowed(call.key, model.id)) throw new DomainError(ErrorCode.ModelNotAllowed, `This key may not use model ${model.id}`, { param: 'model' });
      if (!model.capabilities.includes('embeddings')) throw new DomainError(ErrorCode.InvalidBody, `${model.id} is not an embeddings model`, { param: 'model' });
      if (!endpoint) throw new DomainError(ErrorCode.NoAvailableProvider, `No provider is configured for ${model.id}`);
      const candidate: Candidate = { model, endpoint };
      const adapter = endpoint.adapter;
      if (!adapter.buildEmbeddingsRequest || !adapter.parseEmbeddingsResponse) {
        throw new DomainError(ErrorCode.InvalidBody, `${model.id} does not serve embeddings`, { param: 'model' });
      }
      const bodyBytes = Buffer.byteLength(JSON.stringify(body.input));
      const bound = promptTokenBound(bodyBytes, inputCount(body.input), 0, 1);
      // The hold takes the byte bound (a token is at least a byte); tpm counts tokens, about 4 bytes each.
      stopRenewing = await this.reservations.hold({ key: call.key, requestId: call.requestId, amountMicros: worstCaseMicros(bound, 0, model.price, this.markupBps), tokensEstimate: sizeEstimateOf(bodyBytes), byok: false });
      const built = adapter.buildEmbeddingsRequest(body, { baseUrl: endpoint.baseUrl, apiKey: endpoint.apiKey, upstreamModel: model.upstreamId }, { unsupportedParams: 'reject' });
      const taken = await this.caps.take(call.key.tenantId, model.provider, (await this.tenants.get(call.key.tenantId)).platformCaps, call.requestId);
      if (taken instanceof DomainError) throw taken;
      slot = taken;
      let res: UpstreamResponse | undefined;
      for (let retry = 0; res === undefined; retry++) {
        const t = performance.now();
        let err: DomainError;
        // A client already gone sends nothing (undici refuses at once) and owes nothing.
        withProvider = !call.signal.aborted;
        try {
          const r = await this.upstream.post(built, call.signal);
          if (r.status === 200) {
            res = r;
            attempts.push(attemptOf(candidate, undefined, performance.now() - t, 200, t - call.startedAt));
            break;
          }
          err = adapter.mapError(r.status, await this.upstream.readErrorText(r), r.headers);
          attempts.push(attemptOf(candidate, err, performance.now() - t, r.status, t - call.startedAt));
        } catch (e) {
          err = e instanceof DomainError ? e : new DomainError(ErrorCode.UpstreamError, 'Upstream call failed', { retryable: true });
          attempts.push(attemptOf(candidate, err, performance.now() - t, 0, t - call.startedAt));
          // Cut by the client's leaving: the provider had the input.
          if (call.signal.aborted) throw err;
        }
        withProvider = false;
        // One provider serves an embeddings model: what chat's failover would tell the client
        // (a refused platform key is the operator's 503, not the provider's 401) is told here too.
        const wait = err.details.retryable === true && retry < RETRIES_PER_TARGET && !call.signal.aborted ? backoffMs(err, retry) : null;
        if (wait === null || retrySlot) throw finalErrorOf(err, candidate, undefined).error;
        // The retry holds its slot of the budget until its call is over (released below).
        retrySlot = this.budget.tryRetry();
        if (!retrySlot) throw finalErrorOf(err, candidate, undefined).error;
        await sleep(wait, undefined, { signal: call.signal });
      }
      // Embeddings answers are large by nature (thousands of vectors): four times the chat cap.
      const parsed = adapter.parseEmbeddingsResponse(await this.upstream.readJson(res, 4 * this.maxResponseBytes), {
        model: model.id,
        id: call.requestId,
        created: Math.floor(Date.now() / 1000),
        encodingFormat: body.encoding_format,
      });
      withProvider = false;
      const usage = parsed.usage ?? (await this.inputUsage(body));
      const estimated = parsed.usage === undefined;
      const cost = this.inputCost(usage, model.price);
      await this.settlement.settle(ctx, { candidate, status: 200, usage, cost, attempts, totalMs: performance.now() - call.startedAt, estimated });
      const out = { ...parsed.response, provider: model.provider, usage: { ...usageJson(usage, cost), total_tokens: usage.promptTokens } };
      if (endpoint.sandbox) call.reply.header('x-gateway-sandbox', 'true');
      void call.reply.header('x-request-id', call.requestId).header('x-gateway-provider', model.provider).header('x-gateway-model', model.id).send(out);
    } catch (e) {
      const shutdown = cutByShutdown(call.signal);
      const gone = call.signal.aborted && !shutdown;
      const err = shutdown
        ? new DomainError(ErrorCode.ServiceUnavailable, 'The gateway is shutting down; retry the request', { retryAfterSeconds: 1 })
        : e instanceof DomainError
          ? e
          : new DomainError(ErrorCode.Internal, 'Internal error');
      if (stopRenewing) {
        // A client that left while the provider had its input pays for that input (reliability
        // T17): the provider bills it, and for embeddings the input is the whole cost.
        const paid = gone && withProvider && model !== undefined && endpoint !== undefined;
        const usage = paid ? await this.inputUsage(body) : undefined;
        await this.settlement.settle(ctx, {
          candidate: paid ? { model, endpoint } : undefined,
          status: gone ? 499 : statusOf(err.code),
          errorCode: gone ? 'client_closed_request' : err.code,
          usage,
          cost: usage && model ? this.inputCost(usage, model.price) : 0n,
          attempts,
          totalMs: performance.now() - call.startedAt,
          estimated: paid,
        });
      }
      if (!call.reply.sent && !call.reply.raw.headersSent) {
        const d = describeError(err);
        void call.reply.status(d.status).headers(d.headers).header('x-request-id', call.requestId).send(d.body);
      }
    } finally {
      stopRenewing?.();
      slot?.release();
      if (retrySlot) this.budget.retryEnded();
      this.budget.requestEnded();
    }
  }

  /** The input's tokens counted locally (an upstream that states none, a client that left). */
  private async inputUsage(body: EmbeddingsRequest): Promise<TokenUsage> {
    const inputs = embeddingInputs(body);
    if ('tokens' in inputs) {
      const n = inputs.tokens.reduce((a, t) => a + t.length, 0);
      return { promptTokens: n, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 0, reasoningTokens: 0 };
    }
    return { ...(await this.estimator.estimate({ model: body.model, messages: [{ role: 'user', content: inputs.texts.join('\n') }] }, '')), completionTokens: 0, reasoningTokens: 0 };
  }

  private inputCost(usage: TokenUsage, price: Candidate['model']['price']): bigint {
    return costMicros({ ...usage, completionTokens: 0, reasoningTokens: 0 }, price, this.markupBps);
  }
}

/** OpenAI's embeddings fields; anything else is refused, never passed on with the platform's key. */
const FIELDS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);
/** OpenAI's limit: inputs per request (a flat token array is one input). */
const MAX_INPUTS = 2048;

function validate(body: unknown): EmbeddingsRequest {
  const b = body as Partial<EmbeddingsRequest> | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new DomainError(ErrorCode.InvalidBody, 'The body must be a JSON object');
  for (const f of Object.keys(b)) {
    if (!FIELDS.has(f)) throw new DomainError(ErrorCode.InvalidBody, `Unrecognized request argument supplied: ${f}`, { param: f });
  }
  if (typeof b.model !== 'string' || !b.model) throw new DomainError(ErrorCode.InvalidBody, 'model is required', { param: 'model' });
  embeddingInputs(b as EmbeddingsRequest);
  if (inputCount(b.input) > MAX_INPUTS) throw new DomainError(ErrorCode.InvalidBody, `input must have at most ${MAX_INPUTS} items`, { param: 'input' });
  if (b.encoding_format !== undefined && b.encoding_format !== 'float' && b.encoding_format !== 'base64') {
    throw new DomainError(ErrorCode.InvalidBody, "encoding_format must be 'float' or 'base64'", { param: 'encoding_format' });
  }
  if (b.dimensions !== undefined && !(Number.isSafeInteger(b.dimensions) && b.dimensions > 0)) {
    throw new DomainError(ErrorCode.InvalidBody, 'dimensions must be a positive integer', { param: 'dimensions' });
  }
  if (b.user !== undefined && typeof b.user !== 'string') throw new DomainError(ErrorCode.InvalidBody, 'user must be a string', { param: 'user' });
  return b as EmbeddingsRequest;
}

/** How many inputs: one string or one flat token array is one. */
function inputCount(input: EmbeddingsRequest['input'] | undefined): number {
  if (!Array.isArray(input) || input.length === 0 || typeof input[0] === 'number') return 1;
  return input.length;
}
