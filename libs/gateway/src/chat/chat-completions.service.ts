import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError, ErrorCode, statusOf } from '@gw/core';
import type { ParsedCompletion, UpstreamHttpRequest } from '@gw/llm';
import { promptTokenBound, worstCaseMicros } from '@gw/metering';
import { TenantContextCache } from '../tenant/tenant-context.cache';
import { RoutePlanner, targetOf } from '../routing/route-planner.service';
import { ProviderHealth } from '../routing/provider-health.service';
import { PlatformCapGate } from '../routing/platform-cap-gate';
import { backoffMs, RETRIES_PER_TARGET, RetryBudget } from '../routing/retry-policy';
import { UpstreamClient, type UpstreamResponse, type UpstreamTimeouts } from '../upstream/upstream.client';
import { countLimitOf, holdPriceOf, maxOutputOf, needsPromptCount, promptContentOf, sizeEstimateOf, type Candidate } from './chat-plan';
import { upstreamRequestOf } from './upstream-request';
import { Charges } from './charges';
import { Reservations } from './reservation';
import { Settlement } from './settlement';
import { clientLeft, settleContextOf, upstreamSignalOf, type ChatCall } from './chat-call';
import { StreamRelay, type PrimedStream } from './stream-relay';
import { cutByShutdown, InFlight } from '../http/in-flight';
import { UsageEstimator } from './usage-estimator';
import { generatedOf, textOf } from './completion-text';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import type { AttemptRecord } from './usage-event';
import { attemptOf, credentialRefused, FALLBACK_FROM_BYOK, finalErrorOf, NO_FALLBACK_FROM_BYOK, ownKeyError, retryable, unknownAtProvider, unopenableKeyError } from './attempt-failures';

/** The parsed answer of a non-streamed request, or a stream read up to its first output. */
type Served = { parsed: ParsedCompletion } | { primed: PrimedStream };

/**
 * POST /v1/chat/completions (and /v1/messages): plan the attempts, hold the worst case, call the
 * upstream with retries and failover before any byte was sent, answer or relay the stream, and
 * settle exactly once.
 */
@Injectable()
export class ChatCompletionsService {
  private readonly logger = new Logger('chat');
  private readonly budget = new RetryBudget();

  constructor(
    private readonly charges: Charges,
    private readonly tenants: TenantContextCache,
    private readonly planner: RoutePlanner,
    private readonly health: ProviderHealth,
    private readonly caps: PlatformCapGate,
    private readonly upstream: UpstreamClient,
    private readonly reservations: Reservations,
    private readonly settlement: Settlement,
    private readonly relay: StreamRelay,
    private readonly estimator: UsageEstimator,
    private readonly metrics: GatewayMetrics,
    private readonly inFlight: InFlight,
  ) {}

  async handle(given: ChatCall): Promise<void> {
    let call = given;
    const { key, body, requestId } = call;
    let timeouts: UpstreamTimeouts = {};
    const attempts: AttemptRecord[] = [];
    let decisions: string[] = [];
    /** Set once the hold is taken: stops its renewal. */
    let stopRenewing: (() => void) | undefined;
    this.budget.requestStarted();
    try {
      const tenant = await this.tenants.get(key.tenantId);
      call.logContent = tenant.logContent;
      const t = tenant.routing.timeouts;
      timeouts = { firstByteMs: t.first_byte_ms, idleMs: t.idle_ms, ...call.timeouts };
      const totalMs = call.timeouts?.totalMs ?? t.total_ms;
      // The total timeout aborts the upstream exchange like a client that went away, but is not one.
      const deadline = totalMs === undefined ? undefined : AbortSignal.timeout(totalMs);
      if (deadline) call = { ...call, signal: AbortSignal.any([call.signal, deadline]), clientSignal: call.signal };
      if (body.stream !== true) call.upstreamSignal = upstreamSignalOf(this.inFlight.cutSignal, deadline);
      const n = body.n ?? 1;
      const { images, hourLongCache: hourLong } = promptContentOf(body);
      const promptBound = promptTokenBound(call.bodyBytes, body.messages.length, images, n);
      // The context side of the prompt: one choice's bound (the hold's bound counts every choice).
      call.promptTokens = n > 1 ? promptTokenBound(call.bodyBytes, body.messages.length, images, 1) : promptBound;
      const planFor = () =>
        this.planner.plan({
          key,
          body,
          tenant,
          // Size rules ask for tokens: the count when there is one, else the bytes' estimate.
          promptTokens: call.promptCounted ? (call.promptTokens ?? promptBound) : sizeEstimateOf(call.bodyBytes),
          worstCase: (m) => worstCaseMicros(promptBound, maxOutputOf(body, m, call.promptTokens) * n, holdPriceOf(m.price, hourLong), 0n),
        });
      let plan = planFor();
      // Pre-flight context check (reliability T12): default output caps fit the context by the
      // byte bound; a prompt whose bound is too coarse for that, or that may be over a context,
      // is counted (no further than the largest context decides), a model it is over is skipped
      // without a call, and the plan is made again with the counted caps.
      if (needsPromptCount(body, call.promptTokens, plan.candidates)) {
        call.promptTokens = await this.estimator.contextTokens(body, countLimitOf(plan.candidates));
        call.promptCounted = true;
        plan = planFor();
      }
      decisions = plan.decisions;
      const candidates = plan.candidates;
      const policy = body.provider?.require_parameters === undefined ? tenant.routing.unsupported_params : body.provider.require_parameters ? 'reject' : 'drop';
      // The hold covers what is really sent: an adapter may raise the output cap (thinking budgets).
      const outputCap = (c: Candidate, built: UpstreamHttpRequest) => (built.maxOutputTokens ?? maxOutputOf(body, c.model, call.promptTokens)) * n;
      // The first candidate that can take the request as asked (a parameter its provider cannot
      // honour skips it, like a failed attempt); 400 only when none can.
      let first = -1;
      let built: UpstreamHttpRequest | undefined;
      let buildError: unknown;
      for (let i = 0; i < candidates.length && built === undefined; i++) {
        try {
          built = upstreamRequestOf(call, candidates[i], policy);
          first = i;
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
          buildError ??= e;
          attempts.push(attemptOf(candidates[i], e, 0));
        }
      }
      if (built === undefined) throw buildError ?? new DomainError(ErrorCode.NoAvailableProvider, 'No provider could serve the request');
      const head = candidates[first];
      let holdMicros = this.charges.worstCase(head, promptBound, outputCap(head, built), hourLong);
      const holdOf = (c: Candidate, amountMicros: bigint, tokensEstimate: number) => ({
        key,
        requestId,
        amountMicros,
        tokensEstimate,
        byok: c.endpoint.credentialId !== undefined,
        affordableTokens: (available: bigint) => this.charges.affordableOutput(c, available, promptBound, n, hourLong),
      });
      // The tpm limit counts tokens like OpenAI's: the prompt once (counted, or estimated from its
      // bytes; the hold's byte bound would read 4x too many) and the output cap of every choice.
      const promptEstimate = call.promptCounted ? (call.promptTokens ?? promptBound) : sizeEstimateOf(call.bodyBytes);
      stopRenewing = await this.reservations.hold(holdOf(head, holdMicros, promptEstimate + outputCap(head, built)));
      // A hold on the tenant's own key without include_byok_in_limit was not checked against the
      // key's credit limit: a fallback to the platform's key must be, even when it costs no more.
      let limitChecked = head.endpoint.credentialId === undefined || key.includeByokInLimit;
      const overheadMs = performance.now() - call.startedAt;

      let lastError: unknown;
      let lastCandidate: Candidate | undefined;
      /** Set once a provider was called: from then on its error is the one reported. */
      let called = false;
      /** Set when the provider refused one of the tenant's own keys: the platform's capacity is then off limits unless allowed. */
      let refusedOwn: DomainError | undefined;
      for (let i = first; i < candidates.length; i++) {
        const c = candidates[i];
        if (c.endpoint.unavailable) {
          // The tenant's own key cannot be opened: reported like a refused one, no call made.
          const err = unopenableKeyError(c);
          lastError = err;
          lastCandidate = c;
          refusedOwn ??= err;
          attempts.push(attemptOf(c, err, 0));
          continue;
        }
        if (refusedOwn && c.endpoint.credentialId === undefined) {
          const note = tenant.routing.byok_fallback_to_platform ? FALLBACK_FROM_BYOK : NO_FALLBACK_FROM_BYOK;
          if (!decisions.includes(note)) decisions.push(note);
          if (note === NO_FALLBACK_FROM_BYOK) continue;
        }
        if (i > first) {
          try {
            built = upstreamRequestOf(call, c, policy);
          } catch (e) {
            // A fallback that cannot take the request says nothing about why the earlier ones
            // failed: a provider's error (a 503 the client may retry) stays the answer.
            if (!called) lastError = e;
            attempts.push(attemptOf(c, e, 0));
            continue;
          }
        }
        const slot = c.endpoint.credentialId === undefined ? await this.caps.take(key.tenantId, c.model.provider, tenant.platformCaps, `${requestId}.${i}`) : undefined;
        if (slot instanceof DomainError) {
          lastError = slot;
          attempts.push(attemptOf(c, slot, 0));
          continue;
        }
        let res: Served | DomainError;
        try {
          const need = this.charges.worstCase(c, promptBound, outputCap(c, built), hourLong);
          const platform = c.endpoint.credentialId === undefined;
          if (need > holdMicros || (platform && !limitChecked)) {
            // To the platform's key from a hold the limit never saw: resized to what this attempt
            // needs (down too), so the limit is checked against exactly that.
            const raised = await this.reservations.raise(holdOf(c, need, 0)).catch((e: unknown) => {
              // A fallback the balance (or the key's limit) cannot cover is skipped like a failed
              // attempt: a cheaper one after it may still serve, on the hold already taken.
              if (e instanceof DomainError && (e.code === ErrorCode.InsufficientCredits || e.code === ErrorCode.RequestExceedsBudget)) return e;
              throw e;
            });
            if (raised instanceof DomainError) {
              lastError = raised;
              lastCandidate = c;
              attempts.push(attemptOf(c, raised, 0));
              continue;
            }
            holdMicros = need;
            // A raise on the tenant's own key (its fee not counted) leaves a hold the limit did not see.
            limitChecked = platform || key.includeByokInLimit;
          }
          called = true;
          res = await this.tryTarget(call, c, built, attempts, timeouts, totalMs === undefined ? undefined : call.startedAt + totalMs);
          if (!(res instanceof DomainError)) {
            const ttfbMs = performance.now() - call.startedAt;
            if ('parsed' in res) await this.answer(call, c, res.parsed, attempts, decisions, overheadMs, ttfbMs);
            else await this.relay.run({ call, candidate: c, primed: res.primed, attempts, decisions, overheadMs, ttfbMs, charges: this.charges, contentIdleMs: this.upstream.idleMs(timeouts) });
            return;
          }
        } finally {
          slot?.release();
        }
        lastError = res;
        lastCandidate = c;
        const own = c.endpoint.credentialId !== undefined;
        const keyRefused = credentialRefused(res, own);
        if (keyRefused && own) refusedOwn ??= ownKeyError(res, c);
        // A refused key says nothing about the request: the next key or provider may serve it.
        if ((!retryable(res) && !keyRefused && !unknownAtProvider(res)) || call.signal.aborted) break;
      }
      throw this.finalError(lastError, lastCandidate, refusedOwn);
    } catch (e) {
      const timedOut = call.clientSignal !== undefined && call.signal.aborted && !call.clientSignal.aborted;
      const shutdown = cutByShutdown(call.clientSignal ?? call.signal);
      const err = timedOut
        ? new DomainError(ErrorCode.UpstreamTimeout, 'The request exceeded its total timeout')
        : shutdown
          ? new DomainError(ErrorCode.ServiceUnavailable, 'The gateway is shutting down; retry the request', { retryAfterSeconds: 1 })
          : e instanceof DomainError
          ? e
          : new DomainError(ErrorCode.Internal, 'Internal error');
      if (err.code === ErrorCode.Internal) this.logger.error((e as Error).stack ?? String(e));
      if (stopRenewing) {
        const gone = (call.clientSignal ?? call.signal).aborted && !shutdown;
        // A client that left while the provider had its prompt pays for the prompt (reliability
        // T17): the provider bills it. Output it never received is not charged; a request that
        // failed, or timed out on the gateway's side, costs nothing.
        const cut = gone ? call.cutAttempt : undefined;
        const usage = cut ? await this.estimator.estimate(call.body, '') : undefined;
        const charge = cut && usage ? this.charges.of(cut, usage) : { cost: 0n, byokFee: 0n };
        await this.settlement.settle(settleContextOf(call), {
          candidate: cut,
          status: gone ? 499 : statusOf(err.code),
          errorCode: gone ? 'client_closed_request' : err.code,
          usage,
          cost: charge.cost,
          byokFee: charge.byokFee,
          attempts,
          decisions,
          totalMs: performance.now() - call.startedAt,
          estimated: cut !== undefined,
        });
      }
      if (!call.reply.sent && !call.reply.raw.headersSent) {
        const d = call.format.error(err, requestId);
        void call.reply.status(d.status).headers(d.headers).header('x-request-id', requestId).header('x-gateway-attempts', String(attempts.length)).send(d.body);
      }
    } finally {
      stopRenewing?.();
      this.budget.requestEnded();
    }
  }

  /** What the client is told when no attempt served; a refused platform key is logged for the operator. */
  private finalError(last: unknown, from: Candidate | undefined, refusedOwn: DomainError | undefined): unknown {
    const { error, platformRefusal } = finalErrorOf(last, from, refusedOwn);
    if (platformRefusal) this.logger.error(platformRefusal);
    return error;
  }

  /** One target: the call, and retries with backoff while the error is retryable and budget allows. */
  private async tryTarget(call: ChatCall, c: Candidate, built: UpstreamHttpRequest, attempts: AttemptRecord[], timeouts: UpstreamTimeouts, deadlineAt?: number): Promise<Served | DomainError> {
    const target = targetOf(c);
    // A retry keeps its slot of the retry budget until the retried call is over, not only while
    // it waits: the budget bounds the extra load on a failing provider.
    let retrySlot = false;
    const releaseRetry = () => {
      if (retrySlot) this.budget.retryEnded();
      retrySlot = false;
    };
    try {
      for (let retry = 0; ; retry++) {
        const t = performance.now();
        this.health.began(target);
        let err: DomainError;
        // Only a call the client's leaving interrupted had its prompt with the provider; one it
        // never started (the client already gone) sent nothing and costs nothing.
        const abortedBefore = call.signal.aborted;
        try {
          // A client already gone starts nothing; one that leaves during the call does not cut it.
          const signal = call.upstreamSignal !== undefined && !call.signal.aborted ? call.upstreamSignal : call.signal;
          const res = await this.upstream.post(built, signal, c.endpoint.tenantUrl === true, timeouts);
          if (res.status === 200) {
            // A non-streamed answer is read here, and a stream up to its first content, so an empty,
            // unreadable or failing one can still be retried or fail over.
            const served: Served | DomainError = call.body.stream
              // The first content gets the same time as the first byte.
              ? await this.relay.prime(call, c, res, this.upstream.firstByteMs(timeouts))
              : { parsed: await this.parse(call, c, res) };
            const ms = performance.now() - t;
            if (!(served instanceof DomainError)) {
              this.health.ended(target, true, ms);
              attempts.push(attemptOf(c, undefined, ms, 200, t - call.startedAt));
              return served;
            }
            err = served;
            if (call.signal.aborted && !abortedBefore) call.cutAttempt = c;
            attempts.push(attemptOf(c, err, ms, 200, t - call.startedAt));
          } else {
            const text = await this.upstream.readErrorText(res);
            err = c.endpoint.adapter.mapError(res.status, text, res.headers);
            attempts.push(attemptOf(c, err, performance.now() - t, res.status, t - call.startedAt));
          }
        } catch (e) {
          err = e instanceof DomainError ? e : new DomainError(ErrorCode.UpstreamError, 'Upstream call failed', { retryable: true });
          if (call.signal.aborted && !abortedBefore) call.cutAttempt = c;
          attempts.push(attemptOf(c, err, performance.now() - t, 0, t - call.startedAt));
        }
        releaseRetry();
        // A client error (bad request) says nothing about the provider's health, nor does an
        // attempt the client (or the request's deadline) cut short.
        if (call.signal.aborted) this.health.abandoned(target);
        else this.health.ended(target, !retryable(err));
        if (!retryable(err) || call.signal.aborted || retry >= RETRIES_PER_TARGET) return err;
        const wait = backoffMs(err, retry);
        if (wait === null) return err;
        // A wait (Retry-After) that would outlast the request's deadline: the next target now.
        if (deadlineAt !== undefined && performance.now() + wait >= deadlineAt) return err;
        if (!this.budget.tryRetry()) {
          this.metrics.retryDenied(c.model.provider);
          return err;
        }
        retrySlot = true;
        try {
          await sleep(wait, undefined, { signal: call.signal });
        } catch {
          return err;
        }
      }
    } finally {
      releaseRetry();
    }
  }

  private async parse(call: ChatCall, c: Candidate, res: UpstreamResponse): Promise<ParsedCompletion> {
    let parsed: ParsedCompletion;
    try {
      parsed = c.endpoint.adapter.parseChatResponse(await this.upstream.readJson(res), { model: c.model.id, id: call.requestId, created: Math.floor(Date.now() / 1000) });
    } catch (e) {
      throw e instanceof DomainError ? e : new DomainError(ErrorCode.UpstreamBadResponse, 'The provider sent an unreadable response', { retryable: true });
    }
    if (parsed.completion.choices.length === 0) {
      throw new DomainError(ErrorCode.UpstreamBadResponse, 'The provider sent an empty response', { retryable: true, meta: { reason: 'empty_response' } });
    }
    return parsed;
  }

  private async answer(call: ChatCall, c: Candidate, parsed: ParsedCompletion, attempts: AttemptRecord[], decisions: string[], overheadMs: number, ttfbMs: number) {
    // An answer without usage (a vendor or a tenant's endpoint that omits it) is counted locally,
    // as a stream without usage is: served output is never free.
    const usage = parsed.usage ?? (await this.estimator.estimate(call.body, generatedOf(parsed.completion)));
    const charge = this.charges.of(c, usage);
    // A client that left during the call is charged the answer it did not wait for (upstreamSignalOf).
    const left = clientLeft(call);
    if (!left) {
      const out = call.format.body(parsed.completion, usage, charge.cost + charge.byokFee, c.model.provider);
      if (c.endpoint.sandbox) call.reply.header('x-gateway-sandbox', 'true');
      call.reply
        .header('x-request-id', call.requestId)
        .header('x-gateway-provider', c.model.provider)
        .header('x-gateway-model', c.model.id)
        .header('x-gateway-attempts', String(attempts.length))
        .header('content-type', 'application/json')
        .send(JSON.stringify(out));
    }
    // Settled in the same tick as the answer was written: the script is on the Redis connection
    // before anything else the client sends, so any later read of its credits sees the charge, and the
    // answer waits neither for the round trip nor for the bookkeeping. The request still waits
    // for it (graceful shutdown drains it).
    await this.settlement.settle(settleContextOf(call), {
      candidate: c,
      status: left ? 499 : 200,
      errorCode: left ? 'client_closed_request' : undefined,
      usage,
      cost: charge.cost,
      byokFee: charge.byokFee,
      attempts,
      decisions,
      finishReason: parsed.completion.choices[0]?.finish_reason ?? null,
      completionText: call.logContent ? textOf(parsed.completion) : undefined,
      overheadMs,
      ttfbMs,
      totalMs: performance.now() - call.startedAt,
      estimated: parsed.usage === undefined,
    });
  }
}
