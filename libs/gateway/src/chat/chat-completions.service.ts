import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode, statusOf, type TokenUsage } from '@gw/core';
import type { ChatRequest, ParsedCompletion, UpstreamHttpRequest } from '@gw/llm';
import { costMicros, percentToBps, promptTokenBound, worstCaseMicros } from '@gw/metering';
import { CatalogCache } from '../catalog/catalog-cache';
import { ProviderEndpoints } from '../upstream/provider-endpoints';
import { UpstreamClient, type UpstreamResponse } from '../upstream/upstream.client';
import { countImages, maxOutputOf, planCandidates, type Candidate } from './chat-plan';
import { Reservations } from './reservation';
import { Settlement } from './settlement';
import { settleContextOf, type ChatCall } from './chat-call';
import { StreamRelay } from './stream-relay';
import type { AttemptRecord } from './usage-event';

/** Failures before the first byte that another attempt may fix. */
function retryable(e: unknown): boolean {
  return e instanceof DomainError && e.details.retryable === true;
}

/**
 * POST /v1/chat/completions: plan, hold the worst case, call the upstream (falling over to the
 * next model before any byte was sent), answer or relay the stream, settle exactly once.
 */
@Injectable()
export class ChatCompletionsService {
  private readonly logger = new Logger('chat');
  private readonly markupBps: bigint;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly catalog: CatalogCache,
    private readonly endpoints: ProviderEndpoints,
    private readonly upstream: UpstreamClient,
    private readonly reservations: Reservations,
    private readonly settlement: Settlement,
    private readonly relay: StreamRelay,
  ) {
    this.markupBps = percentToBps(config.PLATFORM_MARKUP_PERCENT);
  }

  async handle(call: ChatCall): Promise<void> {
    const { key, body, requestId } = call;
    const attempts: AttemptRecord[] = [];
    let held = false;
    let served: Candidate | undefined;
    try {
      const candidates = planCandidates(body, key, this.catalog, this.endpoints);
      const n = body.n ?? 1;
      const promptBound = promptTokenBound(call.bodyBytes, body.messages.length, countImages(body), n);
      // The hold covers what is really sent: an adapter may raise the output cap (thinking budgets).
      const outputCap = (c: Candidate, built: UpstreamHttpRequest) => (built.maxOutputTokens ?? maxOutputOf(body, c.model)) * n;
      const worst = (c: Candidate, built: UpstreamHttpRequest) => worstCaseMicros(promptBound, outputCap(c, built), c.model.price, this.markupBps);
      let built = this.build(call, candidates[0]);
      let holdMicros = worst(candidates[0], built);
      await this.reservations.hold({
        key,
        requestId,
        amountMicros: holdMicros,
        tokensEstimate: promptBound + outputCap(candidates[0], built),
        price: candidates[0].model.price,
      });
      held = true;
      const overheadMs = performance.now() - call.startedAt;

      for (let i = 0; i < candidates.length; i++) {
        const c = candidates[i];
        if (i > 0) built = this.build(call, c);
        const need = worst(c, built);
        if (need > holdMicros) {
          await this.reservations.raise({ key, requestId, amountMicros: need, tokensEstimate: 0, price: c.model.price });
          holdMicros = need;
        }
        const t = performance.now();
        let res: UpstreamResponse;
        try {
          res = await this.upstream.post(built, call.signal);
        } catch (e) {
          attempts.push(attemptOf(c, e, performance.now() - t));
          if (retryable(e) && i + 1 < candidates.length && !call.signal.aborted) continue;
          throw e;
        }
        if (res.status !== 200) {
          const text = await res.body.text().catch(() => '');
          const err = c.endpoint.adapter.mapError(res.status, text, res.headers);
          attempts.push(attemptOf(c, err, performance.now() - t, res.status));
          if (retryable(err) && i + 1 < candidates.length && !call.signal.aborted) continue;
          throw err;
        }
        served = c;
        attempts.push({ model: c.model.id, provider: c.model.provider, status: 200, latency_ms: round(performance.now() - t) });
        const ttfbMs = performance.now() - call.startedAt;
        if (body.stream) {
          await this.relay.run({ call, candidate: c, upstream: res, attempts, overheadMs, ttfbMs, markupBps: this.markupBps });
        } else {
          await this.answer(call, c, res, attempts, overheadMs, ttfbMs);
        }
        return;
      }
    } catch (e) {
      const err = e instanceof DomainError ? e : new DomainError(ErrorCode.Internal, 'Internal error');
      if (err.code === ErrorCode.Internal) this.logger.error((e as Error).stack ?? String(e));
      if (held) {
        await this.settlement.settle(settleContextOf(call), {
          candidate: served,
          status: statusOf(err.code),
          errorCode: err.code,
          cost: 0n,
          attempts,
          totalMs: performance.now() - call.startedAt,
          estimated: false,
        });
      }
      if (!call.reply.sent && !call.reply.raw.headersSent) {
        const d = call.format.error(err, requestId);
        void call.reply.status(d.status).headers(d.headers).header('x-request-id', requestId).send(d.body);
      }
    }
  }

  private build(call: ChatCall, c: Candidate): UpstreamHttpRequest {
    return c.endpoint.adapter.buildChatRequest(
      call.body,
      { baseUrl: c.endpoint.baseUrl, apiKey: c.endpoint.apiKey, upstreamModel: c.model.upstreamId },
      { stream: call.body.stream === true, maxTokens: maxOutputOf(call.body, c.model), unsupportedParams: 'reject' },
    );
  }

  private async answer(call: ChatCall, c: Candidate, res: UpstreamResponse, attempts: AttemptRecord[], overheadMs: number, ttfbMs: number) {
    let parsed: ParsedCompletion;
    try {
      parsed = c.endpoint.adapter.parseChatResponse(await res.body.json(), {
        model: c.model.id,
        id: call.requestId,
        created: Math.floor(Date.now() / 1000),
      });
    } catch (e) {
      throw e instanceof DomainError ? e : new DomainError(ErrorCode.UpstreamBadResponse, 'The provider sent an unreadable response');
    }
    const usage: TokenUsage | undefined = parsed.usage;
    const cost = usage ? costMicros(usage, c.model.price, this.markupBps) : 0n;
    await this.settlement.settle(settleContextOf(call), {
      candidate: c,
      status: 200,
      usage,
      cost,
      attempts,
      finishReason: parsed.completion.choices[0]?.finish_reason ?? null,
      overheadMs,
      ttfbMs,
      totalMs: performance.now() - call.startedAt,
      estimated: false,
    });
    const out = call.format.body(parsed.completion, usage, cost, c.model.provider);
    if (c.endpoint.sandbox) call.reply.header('x-gateway-sandbox', 'true');
    call.reply
      .header('x-request-id', call.requestId)
      .header('x-gateway-provider', c.model.provider)
      .header('x-gateway-model', c.model.id)
      .header('x-gateway-attempts', String(attempts.length))
      .header('content-type', 'application/json')
      .send(JSON.stringify(out));
  }
}

function attemptOf(c: Candidate, e: unknown, ms: number, status = 0): AttemptRecord {
  const code = e instanceof DomainError ? e.code : 'internal_error';
  return { model: c.model.id, provider: c.model.provider, status, error: code, latency_ms: round(ms) };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
