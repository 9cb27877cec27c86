import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode } from '@gw/core';
import { LuaScript, REDIS } from '@gw/metering';

/** One counter of the brute-force protection and the ceiling it may reach in a window. */
export interface ThrottleBucket {
  key: string;
  limit: number;
}

/**
 * Brute-force protection of login, password change, sign-up and invitation acceptance:
 * fixed-window counters in Redis, shared by every admin process, per client IP and per account
 * (a hash of the email, so addresses never appear in Redis). An attempt is counted before the
 * expensive argon2 work; a caller over a limit gets 429 with Retry-After (the window's remaining
 * time). A login that succeeds gives its attempt back, so only failures add up.
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

  /**
   * Takes one attempt from every bucket at once (one script, so parallel requests cannot all pass
   * a check before any is counted) and throws RateLimited, giving the attempt back, when that
   * puts any bucket over its limit. The window starts at a bucket's first attempt.
   */
  async take(buckets: ThrottleBucket[]): Promise<void> {
    const reply = await TAKE.run(
      this.redis,
      buckets.map((b) => b.key),
      [String(this.windowMs), ...buckets.map((b) => String(b.limit))],
    );
    if (reply[0] === '0') return;
    const ttl = Number(reply[1]);
    throw new DomainError(ErrorCode.RateLimited, 'Too many attempts; try again later', {
      retryAfterSeconds: Math.max(1, Math.ceil((ttl > 0 ? ttl : this.windowMs) / 1000)),
    });
  }

  /** Gives back an attempt `take` counted, when it turned out not to be a failure (a good password). */
  async giveBack(buckets: ThrottleBucket[]): Promise<void> {
    const tx = this.redis.multi();
    for (const b of buckets) tx.decr(b.key);
    await tx.exec();
  }

  /** A successful login clears the account's failures (never the IP's: an attacker could reset it). */
  async clear(bucket: ThrottleBucket): Promise<void> {
    await this.redis.del(bucket.key);
  }
}

/** KEYS: the buckets; ARGV: 1 window ms, 2.. the limits. Reply {0, 0} or {1, pttl of the full bucket}. */
const TAKE = new LuaScript('auth-take', `
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
for i, key in ipairs(KEYS) do
  if counts[i] > tonumber(ARGV[i + 1]) then
    for _, k in ipairs(KEYS) do redis.call('DECR', k) end
    return {1, redis.call('PTTL', key)}
  end
end
return {0, 0}
`);

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
