import { ErrorCode, INVALID_API_KEY_MESSAGE } from '@gw/core';
import { formatUsd, reserveRejectionError } from './metering.errors';
import { affordableTokens, type ModelPrice } from './pricing';

const PRICE: ModelPrice = { input: 2_500_000n, output: 10_000_000n, cacheRead: null, cacheWrite: null };

describe('reserveRejectionError', () => {
  const ctx = { neededMicros: 420_000n, affordableTokens: (available: bigint) => affordableTokens(available, PRICE, 0n, 1000) };

  it('maps each refusal to its code, with Retry-After only where waiting helps', () => {
    const revoked = reserveRejectionError({ kind: 'key_inactive', status: 'revoked' }, ctx);
    // The same words as any unknown key's 401: nothing tells a revoked key apart.
    expect([revoked.code, revoked.message]).toEqual([ErrorCode.InvalidApiKey, INVALID_API_KEY_MESSAGE]);
    // A status Redis lost (being restored) is not a verdict on the key: 503, retry in a second.
    const lost = reserveRejectionError({ kind: 'key_inactive', status: null }, ctx);
    expect(lost.code).toBe(ErrorCode.BillingUnavailable);
    expect(lost.details.retryAfterSeconds).toBe(1);
    const rl = reserveRejectionError({ kind: 'rate_limited', limit: 'rpm', retryAfterMs: 1_200 }, ctx);
    expect([rl.code, rl.details.retryAfterSeconds]).toEqual([ErrorCode.RateLimited, 2]);
    expect(reserveRejectionError({ kind: 'rate_limited', limit: 'tpm', retryAfterMs: null }, ctx).details.retryAfterSeconds).toBeUndefined();
    const missing = reserveRejectionError({ kind: 'balance_missing' }, ctx);
    expect([missing.code, missing.details.retryAfterSeconds]).toEqual([ErrorCode.BillingUnavailable, 1]);
    expect(reserveRejectionError({ kind: 'key_limit', limitMicros: 1n, spentMicros: 1n, heldMicros: 0n }, ctx).code).toBe(ErrorCode.RequestExceedsBudget);
    // Only the key's own requests in flight stand in the way: retry when they settle.
    const limit = ctx.neededMicros * 2n;
    expect(reserveRejectionError({ kind: 'key_limit', limitMicros: limit, spentMicros: 0n, heldMicros: limit }, ctx).details.retryAfterSeconds).toBe(5);
    expect(reserveRejectionError({ kind: 'key_limit', limitMicros: limit, spentMicros: limit, heldMicros: 1n }, ctx).details.retryAfterSeconds).toBeUndefined();
    expect(reserveRejectionError({ kind: 'already_settled' }, ctx).code).toBe(ErrorCode.Internal);
  });

  it('402 says what is needed, what is available and how many tokens that affords', () => {
    const e = reserveRejectionError({ kind: 'insufficient', availableMicros: 100_000n, inFlightHolds: false }, ctx);
    expect(e.code).toBe(ErrorCode.RequestExceedsBudget);
    // 0.10 USD - 1000 prompt tokens at 2.5/M (0.0025) = 0.0975 USD at 10/M output = 9750 tokens
    expect(e.message).toBe(
      'Insufficient credits: this request needs up to 0.42 USD, available 0.10 USD. The available balance affords 9750 output tokens. Lower max_tokens or add credits.',
    );
    expect(e.details.retryAfterSeconds).toBeUndefined();
    const busy = reserveRejectionError({ kind: 'insufficient', availableMicros: 0n, inFlightHolds: true }, ctx);
    expect([busy.code, busy.details.retryAfterSeconds]).toEqual([ErrorCode.InsufficientCredits, 5]);
    // Without an output price (embeddings) the message names no token count.
    const none = reserveRejectionError({ kind: 'insufficient', availableMicros: 100_000n, inFlightHolds: false }, { neededMicros: 420_000n });
    expect([none.message.includes('affords'), none.details.meta?.affordableTokens]).toEqual([false, null]);
  });
});

describe('formatUsd', () => {
  it.each([
    [0n, '0.00'],
    [1n, '0.000001'],
    [100_000n, '0.10'],
    [1_234_500n, '1.2345'],
    [-30n, '-0.00003'],
    [12_000_000n, '12.00'],
  ])('%s -> %s', (m, s) => expect(formatUsd(m)).toBe(s));
});
