import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { Clock, SecretBox, urlGuardErrorOf } from '@gw/core';
import { AlertDeliveryRepository, AlertRuleRepository, tenantScope, type AlertDeliveryStatus } from '@gw/db';
import type { DeliverAlertData } from '../jobs/observability-jobs';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature';
import { WebhookClient } from './webhook.client';

export interface AttemptInfo {
  /** Attempts BullMQ made before this one. */
  made: number;
  /** Attempts BullMQ will make in all. */
  max: number;
}

/**
 * Sends one crossing's webhook: the stored payload, signed with the rule's secret (opened in
 * memory only), with the delivery id as an idempotency handle for the receiver. Each attempt is
 * recorded on the delivery row; a failed attempt throws so BullMQ retries with backoff, except
 * when the URL is refused by the SSRF guard, which no retry can fix.
 */
@Injectable()
export class AlertDeliverer {
  private readonly logger = new Logger('alerts');

  constructor(
    private readonly deliveries: AlertDeliveryRepository,
    private readonly rules: AlertRuleRepository,
    private readonly box: SecretBox,
    private readonly webhook: WebhookClient,
    private readonly clock: Clock,
    private readonly metrics: WorkerMetrics,
  ) {}

  async deliver(data: DeliverAlertData, attempt: AttemptInfo): Promise<'delivered' | 'skipped'> {
    const scope = tenantScope(data.tenantId);
    const d = await this.deliveries.get(scope, data.deliveryId);
    // Deleted with its rule, or already final (a re-added job of a finished crossing).
    if (!d || d.status === 'delivered' || d.status === 'failed') return 'skipped';
    const rule = await this.rules.get(scope, d.ruleId);
    if (!rule) return 'skipped';
    const body = JSON.stringify(d.payload);
    const headers = {
      'user-agent': 'llm-gateway-alerts/1',
      'x-gateway-event': 'alert.fired',
      'x-gateway-delivery': d.id,
      [SIGNATURE_HEADER]: signatureHeader(this.box.open(rule.sealed, rule.aad), body, this.clock.now()),
    };
    let status: number | null = null;
    let error: string | null = null;
    let permanent = false;
    try {
      status = (await this.webhook.post(rule.webhookUrl, body, headers)).status;
      if (status < 200 || status >= 300) error = `the receiver answered ${status}`;
    } catch (e) {
      const refused = urlGuardErrorOf(e);
      permanent = refused !== undefined && refused.reason !== 'redirect';
      error = refused ? `webhook_url ${refused.message}` : describeFailure(e);
    }
    const last = permanent || attempt.made + 1 >= attempt.max;
    const outcome: AlertDeliveryStatus = error === null ? 'delivered' : last ? 'failed' : 'retrying';
    await this.deliveries.recordAttempt(scope, d.id, { status: outcome, responseStatus: status, error, at: new Date(this.clock.now()) });
    this.metrics.delivery(outcome);
    if (error === null) return 'delivered';
    // Ids only: the URL can itself be a credential (chat webhooks carry tokens in the path).
    this.logger.warn(`alert delivery ${d.id} (rule ${rule.id}) attempt ${attempt.made + 1}/${attempt.max} failed: ${error}`);
    throw permanent ? new UnrecoverableError(error) : new Error(error);
  }
}

/** A network failure's class (code), never the URL undici puts into some messages. */
function describeFailure(e: unknown): string {
  const err = e as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (err.name === 'TimeoutError' || err.cause?.name === 'TimeoutError') return 'timed out';
  const code = err.cause?.code ?? err.code;
  return code ? `connection failed (${code})` : 'connection failed';
}
