/** The observability worker's queue and job names. Each name has exactly one handler (checked when the worker starts). */
export const OBSERVABILITY_QUEUE = 'observability';

export const ObservabilityJob = {
  Retention: 'retention.run',
  EvaluateAlerts: 'alerts.evaluate',
  DeliverAlert: 'alerts.deliver',
} as const;

export type ObservabilityJobName = (typeof ObservabilityJob)[keyof typeof ObservabilityJob];

/** A delivery job carries ids only: never the secret, the URL or the payload (they stay in Postgres). */
export interface DeliverAlertData {
  tenantId: string;
  deliveryId: string;
}

/**
 * One delivery job per crossing of a rule, named by the instant the rule fired: adding it again
 * while it exists is a no-op, so a crossing is delivered once however often it is re-enqueued.
 * Dots, not colons: BullMQ reserves `:` in job ids.
 */
export function alertJobId(ruleId: string, firedAt: Date): string {
  return `alert.${ruleId}.${firedAt.getTime()}`;
}
