import { DomainError, ErrorCode } from '@gw/core';
import type { KeyInfo } from '../auth/key-cache';

/** Requests per minute a key without an rpm limit may count, per gateway process. */
const DEFAULT_PER_MINUTE = 600;
/** The most body bytes counted: a larger prompt is no Messages request any model takes. */
export const COUNT_TOKENS_MAX_BYTES = 4 * 1024 * 1024;

/**
 * `POST /v1/messages/count_tokens` runs the tokenizer for nothing (no charge, no reservation), so
 * it is bounded here: the key's rpm limit (or 600 a minute) per gateway process, in fixed
 * one-minute windows, and at most COUNT_TOKENS_MAX_BYTES counted. Without it any key could spend
 * the gateway's CPU at will.
 */
export class CountTokensLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  take(key: KeyInfo, bodyBytes: number): void {
    if (bodyBytes > COUNT_TOKENS_MAX_BYTES) {
      throw new DomainError(ErrorCode.RequestTooLarge, `count_tokens counts at most ${COUNT_TOKENS_MAX_BYTES} bytes of request`);
    }
    const now = this.now();
    const start = now - (now % 60_000);
    const limit = key.rpmLimit ?? DEFAULT_PER_MINUTE;
    let w = this.windows.get(key.id);
    if (!w || w.start !== start) {
      // A new minute: the other keys' finished windows go too, so the map holds this minute's keys only.
      if (w === undefined && this.windows.size > 10_000) this.sweep(start);
      w = { start, count: 0 };
      this.windows.set(key.id, w);
    }
    if (w.count >= limit) {
      throw new DomainError(ErrorCode.RateLimited, `Rate limit (${limit}) reached for count_tokens on this key.`, {
        retryAfterSeconds: Math.max(1, Math.ceil((start + 60_000 - now) / 1000)),
        retryable: true,
      });
    }
    w.count++;
  }

  private sweep(start: number): void {
    for (const [id, w] of this.windows) if (w.start !== start) this.windows.delete(id);
  }
}
