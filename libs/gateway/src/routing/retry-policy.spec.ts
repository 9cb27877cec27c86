import { DomainError, ErrorCode } from '@gw/core';
import { backoffMs, RetryBudget } from './retry-policy';

describe('RetryBudget (reliability T24)', () => {
  it('allows retries up to 20% of the requests in flight, with a floor of 3', () => {
    const b = new RetryBudget();
    for (let i = 0; i < 10; i++) b.requestStarted();
    // 10 requests: 20% is 2, the floor 3 wins.
    expect([b.tryRetry(), b.tryRetry(), b.tryRetry(), b.tryRetry()]).toEqual([true, true, true, false]);
    for (let i = 0; i < 10; i++) b.requestStarted();
    // 20 requests: 20% is 4.
    expect([b.tryRetry(), b.tryRetry()]).toEqual([true, false]);
    b.retryEnded();
    expect(b.tryRetry()).toBe(true);
  });

  it('frees a slot when a retry ends and never counts below zero', () => {
    const b = new RetryBudget(0.2, 1);
    b.requestStarted();
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    b.retryEnded();
    b.retryEnded();
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    b.requestEnded();
    b.requestEnded();
    expect(b.tryRetry()).toBe(false);
  });
});

describe('backoffMs', () => {
  it('is full-jitter exponential, capped, and honours a short Retry-After', () => {
    expect(backoffMs(new Error('x'), 0, () => 1)).toBe(100);
    expect(backoffMs(new Error('x'), 3, () => 0.5)).toBe(400);
    expect(backoffMs(new Error('x'), 10, () => 1)).toBe(2000);
    expect(backoffMs(new Error('x'), 2, () => 0)).toBe(0);
    expect(backoffMs(new DomainError(ErrorCode.UpstreamRateLimited, 'slow down', { retryAfterSeconds: 2 }), 0)).toBe(2000);
    // Longer than 5 s: not waited for, the next target is tried.
    expect(backoffMs(new DomainError(ErrorCode.UpstreamRateLimited, 'slow down', { retryAfterSeconds: 30 }), 0)).toBeNull();
  });
});
