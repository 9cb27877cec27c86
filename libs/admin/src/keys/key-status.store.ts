import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS, RedisKeys } from '@gw/metering';

export interface KeyState {
  id: string;
  tenantId: string;
  status: 'active' | 'revoked' | 'rotated';
  graceUntil: Date | null;
  expiresAt: Date | null;
}

/** What Redis must say about a key at `now`, and until when (ms epoch) that stays true. */
export function redisKeyStatus(k: KeyState, now: number): { status: string; untilMs: number | null } {
  if (k.status === 'revoked') return { status: 'revoked', untilMs: null };
  const expiry = k.expiresAt?.getTime() ?? null;
  if (expiry !== null && expiry <= now) return { status: 'expired', untilMs: null };
  if (k.status === 'rotated') {
    const grace = k.graceUntil?.getTime() ?? 0;
    if (grace <= now) return { status: 'rotated', untilMs: null };
    return { status: 'active', untilMs: expiry === null ? grace : Math.min(grace, expiry) };
  }
  return { status: 'active', untilMs: expiry };
}

/**
 * The Redis key status the gateway's reserve script checks on every request: the authority on
 * revocation even when a gateway missed the pub/sub eviction and still caches the key (DESIGN.md).
 * The script passes only `active`, so a rotated key in its grace period and a key with an
 * expiry are written `active` with a Redis expiry at the instant they must stop working: after
 * it the status is gone and the script refuses the key, with no job needed to flip it.
 */
@Injectable()
export class KeyStatusStore {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async write(k: KeyState, now = Date.now()): Promise<void> {
    const { status, untilMs } = redisKeyStatus(k, now);
    const name = this.keys.keyStatus(k.tenantId, k.id);
    if (untilMs === null) await this.redis.set(name, status);
    else await this.redis.set(name, status, 'PXAT', untilMs);
  }
}
