/** The billing queue's job names. Each has exactly one handler (checked when the worker starts). */
export const BILLING_QUEUE = 'billing';

export const BillingJob = {
  DrainUsage: 'usage.drain',
  SweepHolds: 'holds.sweep',
} as const;

export type BillingJobName = (typeof BillingJob)[keyof typeof BillingJob];
