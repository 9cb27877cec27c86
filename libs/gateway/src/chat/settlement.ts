import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenUsage } from '@gw/core';
import { CreditStore, type SettleInput } from '@gw/metering';
import { REQUEST_TRACER, type RequestTracer, type TraceHeaders } from '@gw/observability';
import type { Candidate } from './chat-plan';
import { Charges } from './charges';
import type { KeyInfo } from '../auth/key-cache';
import { Reservations } from './reservation';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { usageEventFields, type AttemptRecord, type UsageEventInput } from './usage-event';
import { UsageJournal } from './usage-journal';

/** Who asked for what: the request side of a usage event. */
export interface SettleContext {
  key: KeyInfo;
  requestId: string;
  endpoint: string;
  requestedModel: string;
  stream: boolean;
  endUser?: string;
  /** Present only when the tenant opted in to content logging (privacy settings). */
  messages?: unknown;
  /** The client's W3C trace context: the request's trace continues the client's. */
  trace?: TraceHeaders;
}

export interface Outcome {
  candidate?: Candidate;
  status: number;
  errorCode?: string;
  usage?: TokenUsage;
  cost: bigint;
  byokFee?: bigint;
  attempts: AttemptRecord[];
  decisions?: string[];
  finishReason?: string | null;
  overheadMs?: number;
  ttfbMs?: number;
  totalMs: number;
  estimated: boolean;
  /** The generated text, stored only with an opted-in tenant's `messages`. */
  completionText?: string;
}

/**
 * The settle side of the money path: one script releases the hold, debits the actual cost and
 * appends the usage event. Idempotent per request id, so a retry after an ambiguous Redis error
 * can never charge twice.
 */
@Injectable()
export class Settlement implements BeforeApplicationShutdown {
  private readonly logger = new Logger('settle');
  /** Settles sent and not yet confirmed (nor given up), by request id. */
  private readonly unconfirmed = new Map<string, SettleInput>();

  constructor(
    private readonly credits: CreditStore,
    private readonly reservations: Reservations,
    private readonly metrics: GatewayMetrics,
    @Inject(REQUEST_TRACER) private readonly tracer: RequestTracer,
    private readonly journal: UsageJournal,
    private readonly charges: Charges,
  ) {}

  /**
   * The settle script is queued on the Redis connection synchronously, before this returns its
   * promise (it leaves with the turn's other commands, REDIS_BATCH_WRITES): a caller that settles
   * in the same tick as it answers still has every later request of the client see the charge
   * (one connection, commands in order). Another gateway instance that a next request reaches may
   * see it up to one turn later (milliseconds under load). Metrics and the trace come after, off
   * the critical path.
   */
  async settle(call: SettleContext, o: Outcome): Promise<void> {
    const event: UsageEventInput = {
      endpoint: call.endpoint,
      requestedModel: call.requestedModel,
      servedModel: o.candidate?.model.id,
      provider: o.candidate?.model.provider,
      stream: call.stream,
      status: o.status,
      errorCode: o.errorCode,
      finishReason: o.finishReason,
      usage: o.usage,
      estimated: o.estimated,
      byok: o.candidate?.endpoint.credentialId !== undefined,
      pricing: o.candidate && (o.cost > 0n || (o.byokFee ?? 0n) > 0n) ? this.charges.cardOf(o.candidate) : undefined,
      endUser: call.endUser,
      attempts: o.attempts,
      decisions: o.decisions,
      overheadMs: o.overheadMs,
      ttfbMs: o.ttfbMs,
      totalMs: o.totalMs,
      createdAtMs: Date.now(),
    };
    const fields = usageEventFields(event);
    if (call.messages !== undefined) fields.content = JSON.stringify({ messages: call.messages, completion: o.completionText ?? null });
    const input = {
      tenantId: call.key.tenantId,
      keyId: call.key.id,
      requestId: call.requestId,
      costMicros: o.cost,
      byokFeeMicros: o.byokFee ?? 0n,
      keyPeriodId: this.reservations.periodOf(call.key),
      keyLimitIncludesByokFee: call.key.includeByokInLimit,
      event: fields,
    };
    // Only a journal can keep what an unconfirmed settle would lose at shutdown.
    if (this.journal.enabled) this.unconfirmed.set(call.requestId, input);
    const first = this.credits.settle(input);
    const costMicros = o.cost + (o.byokFee ?? 0n);
    // Bookkeeping must never cost the charge: whatever it throws, the settle below is awaited.
    try {
      this.observe(call, o, event, costMicros);
    } catch (e) {
      this.logger.error(`settle bookkeeping failed for ${call.requestId}: ${(e as Error).message}`);
    }
    // Retried for as long as a hold lives (a Redis failover answers READONLY for seconds, a full
    // one OOM): the request was served and must be charged. The script is idempotent, so a retry
    // after an ambiguous error never charges twice; the caller keeps the hold renewed meanwhile.
    const giveUpAt = Date.now() + this.reservations.holdTtlMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await (attempt === 1 ? first : this.credits.settle(input));
        if (attempt > 1) this.logger.warn(`settle for ${call.requestId} succeeded at attempt ${attempt}`);
        // 'already' too: a settle whose reply a dropped connection lost, resent, answers it (the
        // recovery writes each request once whatever the journal repeats).
        this.confirmed(input);
        return;
      } catch (e) {
        if (Date.now() >= giveUpAt) {
          // The hold is swept when it expires; the reconciliation job reports the gap. The journal
          // keeps the charge, for `npm run usage:recover` to write to the ledger.
          this.logger.error(`settle failed for ${call.requestId} after ${attempt} attempts: ${(e as Error).message}`);
          this.confirmed(input);
          return;
        }
        await sleep(Math.min(20 * 2 ** attempt, 2000));
      }
    }
  }

  /** Done with a settle (charged, or given up on): its charge goes to the journal. */
  private confirmed(input: SettleInput): void {
    if (!this.journal.enabled) return;
    this.unconfirmed.delete(input.requestId);
    this.journal.record(input);
  }

  /**
   * At shutdown, after the drain: settles still retrying (Redis away) would die with the process.
   * Their charges go to the journal, for `npm run usage:recover` (a duplicate of one that lands
   * after all is written once).
   */
  beforeApplicationShutdown(): void {
    if (this.unconfirmed.size === 0) return;
    // Filled only while a journal is on (settle skips the bookkeeping otherwise).
    this.logger.error(`${this.unconfirmed.size} settle(s) not confirmed by Redis at shutdown: journaled for usage:recover`);
    for (const input of this.unconfirmed.values()) this.journal.record(input);
  }

  private observe(call: SettleContext, o: Outcome, event: UsageEventInput, costMicros: bigint): void {
    this.metrics.observe({
      endpoint: call.endpoint,
      status: o.status,
      // Never the client's own string (any text, an alias): labels must stay a bounded set.
      model: event.servedModel ?? o.attempts[0]?.model ?? 'none',
      provider: event.provider ?? 'none',
      stream: call.stream,
      usage: o.usage,
      costMicros,
      attempts: o.attempts,
      overheadMs: o.overheadMs,
      ttfbMs: o.ttfbMs,
      totalMs: o.totalMs,
    });
    if (this.tracer.enabled) this.tracer.record({ ...event, tenantId: call.key.tenantId, requestId: call.requestId, costMicros, trace: call.trace });
  }
}
