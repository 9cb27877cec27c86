/** The billing queues' job names. Each has exactly one handler (checked when the worker starts). */
export const BILLING_QUEUE = 'billing';
/** Charges run on their own queue: a slow Stripe call must not delay usage drains, and back. */
export const PAYMENTS_QUEUE = 'billing-payments';

export const BillingJob = {
  DrainUsage: 'usage.drain',
  SweepHolds: 'holds.sweep',
  Reconcile: 'ledger.reconcile',
  AutoTopupScan: 'autotopup.scan',
} as const;

export type BillingJobName = (typeof BillingJob)[keyof typeof BillingJob];

export const PaymentJob = {
  AutoTopupCharge: 'autotopup.charge',
} as const;

export type PaymentJobName = (typeof PaymentJob)[keyof typeof PaymentJob];

export interface AutoTopupChargeData {
  tenantId: string;
  /** bigint as text (JSON has no bigint). */
  crossingSeq: string;
}

/**
 * One job per threshold crossing: adding it again while it exists is a no-op (BullMQ dedups by
 * id), so any number of workers may enqueue a crossing. Dots, not colons: BullMQ reserves `:`.
 */
export function autoTopupJobId(tenantId: string, crossingSeq: bigint | string): string {
  return `autotopup.${tenantId}.${crossingSeq}`;
}
