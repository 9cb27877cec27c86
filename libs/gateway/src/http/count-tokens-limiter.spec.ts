import { ErrorCode } from '@gw/core';
import type { KeyInfo } from '../auth/key-cache';
import { COUNT_TOKENS_MAX_BYTES, CountTokensLimiter } from './count-tokens-limiter';

const key = (id: string, rpmLimit: number | null) => ({ id, rpmLimit }) as KeyInfo;

describe('CountTokensLimiter', () => {
  it("holds a key to its rpm limit (600 without one) per minute, with the wait to the next minute, and refuses oversized bodies", () => {
    let now = 1_800_000_000_000 + 15_000;
    const limiter = new CountTokensLimiter(() => now);
    for (let i = 0; i < 3; i++) limiter.take(key('a', 3), 100);
    expect(() => limiter.take(key('a', 3), 100)).toThrow(expect.objectContaining({ code: ErrorCode.RateLimited, details: expect.objectContaining({ retryAfterSeconds: 45 }) }));
    // Another key has its own count; an unlimited one gets 600.
    for (let i = 0; i < 600; i++) limiter.take(key('b', null), 100);
    expect(() => limiter.take(key('b', null), 100)).toThrow(expect.objectContaining({ code: ErrorCode.RateLimited }));
    now += 45_000;
    expect(() => limiter.take(key('a', 3), 100)).not.toThrow();
    expect(() => limiter.take(key('c', null), COUNT_TOKENS_MAX_BYTES + 1)).toThrow(expect.objectContaining({ code: ErrorCode.RequestTooLarge }));
  });
});
