import type { Redis } from 'ioredis';
import { LuaScript } from './lua-script';
import { RedisKeys } from './redis-keys';

/** One tenant's share of one provider through the platform's own credentials (0 or absent: no cap). */
export interface CapLimits {
  rpm?: number;
  concurrency?: number;
}

export type CapDecision = { ok: true; lease: string } | { ok: false; limit: 'rpm' | 'concurrency'; retryAfterMs: number };

/**
 * Fixed one-minute window of requests started, and a zset of leases (requests in flight) scored
 * by their expiry, so a gateway that dies holding leases frees them after the lease time.
 *
 * KEYS: 1 window counter, 2 leases
 * ARGV: 1 now ms, 2 rpm (0: none), 3 concurrency (0: none), 4 lease member, 5 lease ms, 6 ms to the window's end
 */
const ACQUIRE_LUA = `
local now = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local conc = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if conc > 0 and redis.call('ZCARD', KEYS[2]) >= conc then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'concurrency', string.format('%.0f', math.min(1000, tonumber(first[2]) - now))}
end
if rpm > 0 then
  local n = tonumber(redis.call('GET', KEYS[1]) or '0')
  if n >= rpm then return {'rpm', ARGV[6]} end
  redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], 61000)
end
if conc > 0 then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return {'ok'}
`;

/**
 * Pushes a lease's expiry out while its request runs (a stream can outlast one lease). A lease
 * already released or expired is not brought back.
 *
 * KEYS: 1 leases
 * ARGV: 1 lease member, 2 new expiry ms, 3 lease ms
 */
const RENEW_LUA = `
if redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[2], ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'held'}
end
return {'gone'}
`;

const ACQUIRE = new LuaScript('platform-cap', ACQUIRE_LUA);
const RENEW = new LuaScript('platform-cap-renew', RENEW_LUA);
const WINDOW_MS = 60_000;

/**
 * Per-tenant caps on the platform's shared provider credentials: one script call before an
 * attempt (only when a cap applies), one ZREM after it.
 */
export class PlatformCapLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** How long a lease lives unless renewed; it only matters when a gateway dies holding it. */
    readonly leaseMs = 15 * 60_000,
  ) {}

  async acquire(tenantId: string, provider: string, limits: CapLimits, lease: string, nowMs = Date.now()): Promise<CapDecision> {
    const window = Math.floor(nowMs / WINDOW_MS);
    const [kind, retry] = await ACQUIRE.run(
      this.redis,
      [this.keys.platformCapWindow(tenantId, provider, window), this.keys.platformCapLeases(tenantId, provider)],
      [String(nowMs), String(limits.rpm ?? 0), String(limits.concurrency ?? 0), lease, String(this.leaseMs), String((window + 1) * WINDOW_MS - nowMs)],
    );
    if (kind === 'ok') return { ok: true, lease };
    return { ok: false, limit: kind as 'rpm' | 'concurrency', retryAfterMs: Math.max(1, Number(retry)) };
  }

  /** True while the lease is held (its expiry moved to now + lease time). */
  async renew(tenantId: string, provider: string, lease: string, nowMs = Date.now()): Promise<boolean> {
    const [state] = await RENEW.run(this.redis, [this.keys.platformCapLeases(tenantId, provider)], [lease, String(nowMs + this.leaseMs), String(this.leaseMs)]);
    return state === 'held';
  }

  async release(tenantId: string, provider: string, lease: string): Promise<void> {
    await this.redis.zrem(this.keys.platformCapLeases(tenantId, provider), lease);
  }
}
