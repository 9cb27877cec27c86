import { DomainError } from '@gw/core';

/** Retries per attempt target before failing over to the next one. */
export const RETRIES_PER_TARGET = 1;
const BASE_MS = 100;
const CAP_MS = 2_000;
/** A Retry-After longer than this is not waited for: the next target is tried instead. */
const MAX_RETRY_AFTER_MS = 5_000;

/**
 * How long to wait before retrying the same target, or null to move on: exponential backoff with
 * full jitter (so many clients do not retry in lockstep), honouring the upstream's Retry-After.
 */
export function backoffMs(err: unknown, retry: number, random: () => number = Math.random): number | null {
  const after = err instanceof DomainError ? err.details.retryAfterSeconds : undefined;
  if (after !== undefined) {
    const ms = after * 1000;
    return ms > MAX_RETRY_AFTER_MS ? null : ms;
  }
  return Math.round(random() * Math.min(CAP_MS, BASE_MS * 2 ** retry));
}

/**
 * A retry budget (Envoy's idea): retries in flight may be at most a share of the requests in
 * flight, with a small floor, so an outage does not multiply the load on providers.
 */
export class RetryBudget {
  private requests = 0;
  private retries = 0;

  constructor(
    private readonly share = 0.2,
    private readonly floor = 3,
  ) {}

  requestStarted(): void {
    this.requests++;
  }

  requestEnded(): void {
    this.requests = Math.max(0, this.requests - 1);
  }

  /** Takes a retry slot if the budget allows; release it with retryEnded. */
  tryRetry(): boolean {
    if (this.retries >= Math.max(this.floor, this.requests * this.share)) return false;
    this.retries++;
    return true;
  }

  retryEnded(): void {
    this.retries = Math.max(0, this.retries - 1);
  }
}
