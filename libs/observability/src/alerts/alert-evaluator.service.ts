import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig, Clock, newId } from '@gw/core';
import { AlertDeliveryRepository, AlertRuleRepository, AlertSignalsRepository, LedgerRepository, tenantScope, type StoredAlertRule } from '@gw/db';
import { CreditStore } from '@gw/metering';
import { OBSERVABILITY_QUEUE, ObservabilityJob, alertJobId, type DeliverAlertData } from '../jobs/observability-jobs';
import { alertPayload, balanceReading, errorRateReading, spendReading, startOfUtcDay, startOfUtcMonth, type Reading } from './alert-conditions';

const PAGE = 500;
/** Open deliveries older than this get their job re-added (a no-op unless the job was lost). */
const REQUEUE_AFTER_MS = 30_000;

export interface EvaluationResult {
  rules: number;
  fired: number;
  rearmed: number;
  requeued: number;
}

/** Readings shared by the rules of one pass: a tenant's spend or balance is read once, however many rules ask. */
class PassMemo {
  private readonly values = new Map<string, Promise<unknown>>();
  once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let v = this.values.get(key) as Promise<T> | undefined;
    if (!v) this.values.set(key, (v = read()));
    return v;
  }
}

/**
 * Evaluates every enabled alert rule (a scheduled job). A rule fires once per crossing: armed ->
 * fired opens the crossing and records its delivery in one transaction (AlertRuleRepository), the
 * delivery job's id names the crossing, and the rule re-arms only when its condition has cleared.
 * Spend comes from request logs (Postgres), balances from Redis (the ledger when Redis has none).
 */
@Injectable()
export class AlertEvaluator {
  private readonly logger = new Logger('alerts');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rules: AlertRuleRepository,
    private readonly deliveries: AlertDeliveryRepository,
    private readonly signals: AlertSignalsRepository,
    private readonly ledger: LedgerRepository,
    private readonly credits: CreditStore,
    private readonly clock: Clock,
    @InjectQueue(OBSERVABILITY_QUEUE) private readonly queue: Queue<DeliverAlertData>,
  ) {}

  async evaluate(): Promise<EvaluationResult> {
    const now = this.clock.now();
    const memo = new PassMemo();
    const result: EvaluationResult = { rules: 0, fired: 0, rearmed: 0, requeued: 0 };
    let after: string | null = null;
    for (;;) {
      const page = await this.rules.listEnabled(after, PAGE);
      for (const rule of page) {
        result.rules++;
        try {
          const outcome = await this.consider(rule, memo, now);
          if (outcome === 'fired') result.fired++;
          if (outcome === 'rearmed') result.rearmed++;
        } catch (e) {
          // One rule's failure (Redis away for a balance) must not stop the others.
          this.logger.warn(`alert rule ${rule.id} not evaluated: ${(e as Error).message}`);
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    for (const d of await this.deliveries.unfinished(new Date(now - REQUEUE_AFTER_MS), PAGE)) {
      await this.enqueue(d.tenantId, d.id, d.ruleId, d.createdAt);
      result.requeued++;
    }
    return result;
  }

  private async consider(rule: StoredAlertRule, memo: PassMemo, now: number): Promise<'fired' | 'rearmed' | null> {
    const scope = tenantScope(rule.tenantId);
    const reading = await this.read(rule, memo, now);
    if (!reading.breached) return rule.state === 'fired' && (await this.rules.rearm(scope, rule.id)) ? 'rearmed' : null;
    if (rule.state !== 'armed') return null;
    const at = new Date(now);
    const deliveryId = newId('ald');
    const opened = await this.rules.openCrossing(scope, rule.id, at, { id: deliveryId, payload: alertPayload(rule, reading, deliveryId, at) });
    if (!opened) return null;
    this.logger.log(`alert rule ${rule.id} (${rule.kind}) of tenant ${rule.tenantId} fired: delivery ${opened.id}`);
    await this.enqueue(rule.tenantId, opened.id, rule.id, opened.createdAt);
    return 'fired';
  }

  private async read(rule: StoredAlertRule, memo: PassMemo, now: number): Promise<Reading> {
    const scope = tenantScope(rule.tenantId);
    switch (rule.kind) {
      case 'spend_daily':
      case 'spend_monthly': {
        const since = rule.kind === 'spend_daily' ? startOfUtcDay(now) : startOfUtcMonth(now);
        const spent = await memo.once(`spend:${rule.tenantId}:${since.getTime()}`, () => this.signals.spendSince(scope, since));
        return spendReading(rule, spent, since);
      }
      case 'balance_below': {
        const balance = await memo.once(`balance:${rule.tenantId}`, async () => {
          const c = await this.credits.getCredits(rule.tenantId);
          // No Redis balance yet (or lost): the ledger is the truth.
          return c ? c.balance : (await this.ledger.totals(rule.tenantId)).balance;
        });
        return balanceReading(rule, balance);
      }
      case 'error_rate': {
        const since = new Date(now - (rule.windowMinutes ?? 15) * 60_000);
        const e = await this.signals.attemptErrors(scope, since, { model: rule.model, provider: rule.provider });
        return errorRateReading(rule, e.attempts, e.failed);
      }
    }
  }

  private async enqueue(tenantId: string, deliveryId: string, ruleId: string, firedAt: Date): Promise<void> {
    await this.queue.add(
      ObservabilityJob.DeliverAlert,
      { tenantId, deliveryId },
      {
        jobId: alertJobId(ruleId, firedAt),
        attempts: this.config.ALERT_DELIVERY_ATTEMPTS,
        backoff: { type: 'exponential', delay: this.config.ALERT_RETRY_DELAY_MS },
        // Kept a while after they end, so re-adding a finished crossing stays a no-op.
        removeOnComplete: { age: 86_400 },
        removeOnFail: { age: 7 * 86_400 },
      },
    );
  }
}
