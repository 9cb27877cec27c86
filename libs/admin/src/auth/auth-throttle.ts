import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode } from '@gw/core';
import { REDIS } from '@gw/metering';

/** One counter of the brute-force protection and the ceiling it may reach in a window. */
export interface ThrottleBucket {
  key: string;
  limit: number;
}

/**
 * Brute-force protection of login, sign-up and invitation acceptance: fixed-window counters in
 * Redis, shared by every admin process, per client IP and per account (a hash of the email, so
 * addresses never appear in Redis). Checked before the expensive argon2 work; a caller over a
 * limit gets 429 with Retry-After (the window's remaining time).
 */
@Injectable()
export class AuthThrottle {
  private readonly prefix: string;
  private readonly windowMs: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    this.prefix = `${config.REDIS_PREFIX}gw:auth:`;
    this.windowMs = config.AUTH_RATE_WINDOW_SECONDS * 1000;
  }

  loginBuckets(ip: string, email: string): ThrottleBucket[] {
    return [
      { key: `${this.prefix}login:ip:${ip}`, limit: this.config.AUTH_LOGIN_MAX_FAILURES_PER_IP },
      { key: `${this.prefix}login:acct:${digest(email.toLowerCase())}`, limit: this.config.AUTH_LOGIN_MAX_FAILURES_PER_ACCOUNT },
    ];
  }

  signupBuckets(ip: string): ThrottleBucket[] {
    return [{ key: `${this.prefix}signup:ip:${ip}`, limit: this.config.AUTH_SIGNUP_MAX_PER_IP }];
  }

  /** Throws RateLimited when any bucket is full. */
  async assertAllowed(buckets: ThrottleBucket[]): Promise<void> {
    const counts = await this.redis.mget(...buckets.map((b) => b.key));
    const full = buckets.findIndex((b, i) => Number(counts[i] ?? 0) >= b.limit);
    if (full === -1) return;
    const ttl = await this.redis.pttl(buckets[full]!.key);
    throw new DomainError(ErrorCode.RateLimited, 'Too many attempts; try again later', {
      retryAfterSeconds: Math.max(1, Math.ceil((ttl > 0 ? ttl : this.windowMs) / 1000)),
    });
  }

  /** Counts one attempt in each bucket; the window starts at a bucket's first attempt. */
  async hit(buckets: ThrottleBucket[]): Promise<void> {
    const tx = this.redis.multi();
    for (const b of buckets) {
      tx.incr(b.key);
      tx.pexpire(b.key, this.windowMs, 'NX');
    }
    await tx.exec();
  }

  /** A successful login clears the account's failures (never the IP's: an attacker could reset it). */
  async clear(bucket: ThrottleBucket): Promise<void> {
    await this.redis.del(bucket.key);
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
