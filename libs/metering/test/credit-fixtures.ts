import type { Redis } from 'ioredis';
import type { RedisKeys } from '../src/redis-keys';
import type { CreditStore } from '../src/credit-store';
import type { Credits, ReserveInput } from '../src/credit-store.types';
import { uid } from './redis-test-env';

export const USD = 1_000_000n;
export const T0 = 1_700_000_000_000;

export interface TenantFixture {
  tenantId: string;
  keyId: string;
}

/** A tenant with a rebuilt balance of `credits` and one active key. */
export async function openTenant(store: CreditStore, credits: bigint, seq = 0n): Promise<TenantFixture> {
  const tenantId = uid('ten');
  const keyId = uid('key');
  await store.initBalance(tenantId, { balanceMicros: credits, creditsMicros: credits, usageMicros: 0n, seq });
  await store.setKeyStatus(tenantId, keyId, 'active');
  return { tenantId, keyId };
}

export function reserveInput(t: TenantFixture, amountMicros: bigint, over: Partial<ReserveInput> = {}): ReserveInput {
  return {
    tenantId: t.tenantId,
    keyId: t.keyId,
    requestId: uid('gen'),
    amountMicros,
    overdraftMicros: 0n,
    holdTtlMs: 120_000,
    nowMs: T0,
    tokensEstimate: 100,
    ...over,
  };
}

/** getCredits for a tenant whose balance must exist. */
export async function creditsOf(store: CreditStore, tenantId: string): Promise<Credits> {
  const c = await store.getCredits(tenantId);
  if (!c) throw new Error(`balance of ${tenantId} is missing`);
  return c;
}

/** A tenant's entries in its bucket's usage stream (other tenants may share the bucket). */
export async function streamEntriesOf(redis: Redis, keys: RedisKeys, tenantId: string): Promise<[string, string[]][]> {
  const all = (await redis.xrange(keys.usageStreamOf(tenantId), '-', '+')) as [string, string[]][];
  return all.filter(([, f]) => f[f.indexOf('tenantId') + 1] === tenantId);
}
