import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode, describeError, statusOf, type TokenUsage } from '@gw/core';
import type { EmbeddingsRequest } from '@gw/llm';
import type { TraceHeaders } from '@gw/observability';
import { costMicros, percentToBps, promptTokenBound, worstCaseMicros } from '@gw/metering';
import type { KeyInfo } from '../auth/key-cache';
import { CatalogCache, catalogNotLoaded } from '../catalog/catalog-cache';
import { ProviderEndpoints } from '../upstream/provider-endpoints';
import { UpstreamClient } from '../upstream/upstream.client';
import { PlatformCapGate, type CapSlot } from '../routing/platform-cap-gate';
import { TenantContextCache } from '../tenant/tenant-context.cache';
import { modelAllowed } from './chat-plan';
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
    try {
      if (!model) throw this.catalog.loaded ? new DomainError(ErrorCode.ModelNotFound, `Unknown model: ${body.model}`, { param: 'model' }) : catalogNotLoaded();
      if (!modelAllowed(call.key, model.id)) throw new DomainError(ErrorCode.ModelNotAllowed, `This key may not use model ${model.id}`, { param: 'model' });
      if (!endpoint) throw new DomainError(ErrorCode.NoAvailableProvider, `No provider is configured for ${model.id}`);
      const adapter = endpoint.adapter;
      if (!adapter.buildEmbeddingsRequest || !adapter.parseEmbeddingsResponse) {
        throw new DomainError(ErrorCode.InvalidBody, `${model.id} does not serve embeddings`, { param: 'model' });
      }
      const bodyBytes = Buffer.byteLength(JSON.stringify(body.input));
      const inputs = Array.isArray(body.input) ? body.input.length : 1;
      const bound = promptTokenBound(bodyBytes, inputs, 0, 1);
      stopRenewing = await this.reservations.hold({ key: call.key, requestId: call.requestId, amountMicros: worstCaseMicros(bound, 0, model.price, this.markupBps), tokensEstimate: bound, byok: false });
      const built = adapter.buildEmbeddingsRequest(body, { baseUrl: endpoint.baseUrl, apiKey: endpoint.apiKey, upstreamModel: model.upstreamId }, { unsupportedParams: 'reject' });
      const taken = await this.caps.take(call.key.tenantId, model.provider, (await this.tenants.get(call.key.tenantId)).platformCaps, call.requestId);
      if (taken instanceof DomainError) throw taken;
      slot = taken;
      const t = performance.now();
      const res = await this.upstream.post(built, call.signal);
      if (res.status !== 200) throw adapter.mapError(res.status, await this.upstream.readErrorText(res), res.headers);
      // Embeddings answers are large by nature (thousands of vectors): four times the chat cap.
      const parsed = adapter.parseEmbeddingsResponse(await this.upstream.readJson(res, 4 * this.maxResponseBytes), {
        model: model.id,
        id: call.requestId,
        created: Math.floor(Date.now() / 1000),
        encodingFormat: body.encoding_format,
      });
      const usage: TokenUsage = parsed.usage ?? await this.estimator.estimate({ model: body.model, messages: [{ role: 'user', content: inputText(body.input) }] }, '');
      const estimated = parsed.usage === undefined;
      const cost = costMicros({ ...usage, completionTokens: 0, reasoningTokens: 0 }, model.price, this.markupBps);
      const latency = performance.now() - t;
      await this.settlement.settle(ctx, {
        candidate: { model, endpoint },
        status: 200,
        usage,
        cost,
        attempts: [{ model: model.id, provider: model.provider, status: 200, latency_ms: round(latency), started_ms: round(t - call.startedAt) }],
        totalMs: performance.now() - call.startedAt,
        estimated,
      });
      const out = { ...parsed.response, provider: model.provider, usage: { ...usageJson(usage, cost), total_tokens: usage.promptTokens } };
      if (endpoint.sandbox) call.reply.header('x-gateway-sandbox', 'true');
      void call.reply.header('x-request-id', call.requestId).header('x-gateway-provider', model.provider).header('x-gateway-model', model.id).send(out);
    } catch (e) {
      const err = e instanceof DomainError ? e : new DomainError(ErrorCode.Internal, 'Internal error');
      if (stopRenewing) await this.settlement.settle(ctx, { status: statusOf(err.code), errorCode: err.code, cost: 0n, attempts: [], totalMs: performance.now() - call.startedAt, estimated: false });
      const d = describeError(err);
      void call.reply.status(d.status).headers(d.headers).header('x-request-id', call.requestId).send(d.body);
    } finally {
      stopRenewing?.();
      slot?.release();
    }
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function validate(body: unknown): EmbeddingsRequest {
  const b = body as Partial<EmbeddingsRequest> | null;
  if (!b || typeof b !== 'object') throw new DomainError(ErrorCode.InvalidBody, 'The body must be a JSON object');
  if (typeof b.model !== 'string' || !b.model) throw new DomainError(ErrorCode.InvalidBody, 'model is required', { param: 'model' });
  const ok = typeof b.input === 'string' || (Array.isArray(b.input) && b.input.length > 0 && b.input.length <= 2048);
  if (!ok) throw new DomainError(ErrorCode.InvalidBody, 'input must be a string or a non-empty array (at most 2048 items)', { param: 'input' });
  if (b.encoding_format !== undefined && b.encoding_format !== 'float' && b.encoding_format !== 'base64') {
    throw new DomainError(ErrorCode.InvalidBody, "encoding_format must be 'float' or 'base64'", { param: 'encoding_format' });
  }
  return b as EmbeddingsRequest;
}

function inputText(input: EmbeddingsRequest['input']): string {
  if (typeof input === 'string') return input;
  return (input as unknown[]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n');
}
