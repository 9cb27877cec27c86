import { DomainError, ErrorCode, INVALID_API_KEY_MESSAGE, type Micros } from '@gw/core';
import type { ReserveRejection } from './credit-store.types';

export interface RejectionContext {
  /** The hold that was asked for. */
  neededMicros: Micros;
  /**
   * How many output tokens (per choice) an available balance affords the request, to say so in
   * the 402; null or absent when that is not a question (no output price, embeddings).
   */
  affordableTokens?: (availableMicros: Micros) => bigint | null;
  /** Suggested wait when other in-flight requests hold credit (they may release it). */
  inFlightRetryAfterSeconds?: number;
}

/**
 * A refused reservation as a coded domain error, for the edge filter to render: 401 for an
 * inactive key (same body as an unknown key), 429 with Retry-After, 503 while the balance or the
 * key's status is rebuilt, 402 otherwise. A 402 carries Retry-After only when other holds are in flight, since
 * only then can waiting help (OpenRouter's in-flight budget).
 */
export function reserveRejectionError(r: ReserveRejection, ctx: RejectionContext): DomainError {
  switch (r.kind) {
    case 'key_inactive':
      // No status at all: the key was found active in Postgres (the key cache) but Redis lost its
      // status; recovery restores it within seconds. A valid key must not read as invalid meanwhile.
      if (r.status === null) return new DomainError(ErrorCode.BillingUnavailable, 'Billing is briefly unavailable; retry shortly.', { retryAfterSeconds: 1, retryable: true });
      return new DomainError(ErrorCode.InvalidApiKey, INVALID_API_KEY_MESSAGE);
    case 'rate_limited':
      if (r.retryAfterMs === null) {
        return new DomainError(
          ErrorCode.RateLimited,
          `Request too large: it alone exceeds this key's ${r.limit} limit.`,
          { retryable: false, meta: { limit: r.limit } },
        );
      }
      return new DomainError(ErrorCode.RateLimited, `Rate limit (${r.limit}) reached for this key.`, {
        retryAfterSeconds: Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
        retryable: true,
        meta: { limit: r.limit },
      });
    case 'balance_missing':
      return new DomainError(ErrorCode.BillingUnavailable, 'Billing is briefly unavailable; retry shortly.', {
        retryAfterSeconds: 1,
        retryable: true,
      });
    case 'insufficient': {
      const affordable = ctx.affordableTokens?.(r.availableMicros) ?? null;
      const tail = affordable === null ? '' : ` The available balance affords ${affordable} output tokens.`;
      const details = {
        retryAfterSeconds: r.inFlightHolds ? (ctx.inFlightRetryAfterSeconds ?? 5) : undefined,
        meta: {
          neededMicros: ctx.neededMicros.toString(),
          availableMicros: r.availableMicros.toString(),
          affordableTokens: affordable?.toString() ?? null,
          reason: r.inFlightHolds ? 'in_flight_budget_exhausted' : 'insufficient_balance',
        },
      };
      if (r.availableMicros > 0n) {
        return new DomainError(
          ErrorCode.RequestExceedsBudget,
          `Insufficient credits: this request needs up to ${formatUsd(ctx.neededMicros)} USD, available ${formatUsd(r.availableMicros)} USD.${tail} Lower max_tokens or add credits.`,
          details,
        );
      }
      return new DomainError(
        ErrorCode.InsufficientCredits,
        `Insufficient credits: available ${formatUsd(r.availableMicros)} USD. Add credits to continue.`,
        details,
      );
    }
    case 'key_limit': {
      // Room the key's own requests in flight hold: the request fits once they settle, so it may be retried.
      const fitsWhenSettled = r.heldMicros > 0n && ctx.neededMicros <= r.limitMicros - r.spentMicros;
      return new DomainError(
        ErrorCode.RequestExceedsBudget,
        `This API key's credit limit (${formatUsd(r.limitMicros)} USD) would be exceeded: spent ${formatUsd(r.spentMicros)} USD, in flight ${formatUsd(r.heldMicros)} USD.`,
        {
          retryAfterSeconds: fitsWhenSettled ? (ctx.inFlightRetryAfterSeconds ?? 5) : undefined,
          meta: { limitSource: 'key', neededMicros: ctx.neededMicros.toString(), reason: fitsWhenSettled ? 'in_flight_budget_exhausted' : 'key_limit' },
        },
      );
    }
    case 'already_settled':
      return new DomainError(ErrorCode.Internal, 'Request id reused after settlement.');
  }
}

/** Micros as USD text without floats: 1_234_500n -> "1.2345", 0n -> "0.00". */
export function formatUsd(micros: Micros): string {
  const sign = micros < 0n ? '-' : '';
  const abs = micros < 0n ? -micros : micros;
  const frac = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${sign}${abs / 1_000_000n}.${frac}`;
}
