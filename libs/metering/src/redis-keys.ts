import { crc32 } from 'node:zlib';
import { BoundedMemo } from '@gw/core';

/** The billing worker consumes one usage stream per bucket: 256 streams. */
export const BUCKET_COUNT = 256;

/**
 * A tenant's bucket. It is the Redis Cluster hash tag of every key the tenant's scripts touch,
 * including its usage stream, so settle (debit + stream append) is one atomic script in one slot.
 */
export function bucketOf(tenantId: string): number {
  return crc32(Buffer.from(tenantId, 'utf8')) % BUCKET_COUNT;
}

/**
 * Ids end up inside key names and inside `|`-separated members of the hold-expiry zset, so they
 * must not contain `:` (two ids share the settled-marker name), `|`, braces (a `{` would not move
 * the hash tag, which comes first, but keeps names unambiguous) or whitespace. Gateway ids are
 * base62 with `_`/`-`.
 */
const ID_RE = /^[A-Za-z0-9._@+-]{1,200}$/;

export function assertId(value: string, what: string): void {
  if (!ID_RE.test(value)) throw new RangeError(`invalid ${what} for a Redis key: ${JSON.stringify(value)}`);
}

/**
 * Every Redis key of the metering module, under one prefix (tests isolate themselves with it).
 *
 * Layout, b = bucketOf(tenant), all tenant keys tagged `{b}`:
 *   {p}gw:{b}:bal:{tenant}             hash bal, held, cred, used, seq (the reservation book)
 *   {p}gw:{b}:holds:{tenant}           hash requestId -> "amount|keyId" (open holds)
 *   {p}gw:{b}:hexp                     zset "tenant|keyId|requestId" scored by expiry ms (per bucket)
 *   {p}gw:{b}:ks:{keyId}               string: api key status ('active' passes)
 *   {p}gw:{b}:kspend:{keyId}           hash pid, spent, held (credit limit per period)
 *   {p}gw:{b}:rl:{keyId}:{window}      hash r (requests), t (tokens) per fixed window
 *   {p}gw:{b}:done:{tenant}:{request}  string, TTL 1 day: request settled
 *   {p}gw:{b}:pc:{tenant}:{provider}:{window}  string: requests started on platform credentials
 *   {p}gw:{b}:pcl:{tenant}:{provider}  zset lease -> expiry ms (platform requests in flight)
 *   {p}usage:{b}                       stream of usage events (one per settle)
 */
export class RedisKeys {
  constructor(readonly prefix: string) {
    if (/[{}\s]/.test(prefix)) throw new RangeError(`Redis prefix must not contain braces or spaces: ${prefix}`);
  }

  private tagged(bucket: number): string {
    return `${this.prefix}gw:{${bucket}}:`;
  }

  // Every request names ~14 keys of one tenant: validate and hash its id once, not per key.
  private readonly tenants = new BoundedMemo<{ bucket: number; tag: string }>(100_000);

  private tenant(tenantId: string): { bucket: number; tag: string } {
    return this.tenants.get(tenantId, () => {
      assertId(tenantId, 'tenant id');
      const bucket = bucketOf(tenantId);
      return { bucket, tag: this.tagged(bucket) };
    });
  }

  private ofTenant(tenantId: string): string {
    return this.tenant(tenantId).tag;
  }

  balance(tenantId: string): string {
    return `${this.ofTenant(tenantId)}bal:${tenantId}`;
  }

  holds(tenantId: string): string {
    return `${this.ofTenant(tenantId)}holds:${tenantId}`;
  }

  holdExpiry(bucket: number): string {
    return `${this.tagged(checkBucket(bucket))}hexp`;
  }

  holdExpiryOf(tenantId: string): string {
    return `${this.ofTenant(tenantId)}hexp`;
  }

  keyStatus(tenantId: string, keyId: string): string {
    assertId(keyId, 'key id');
    return `${this.ofTenant(tenantId)}ks:${keyId}`;
  }

  keySpend(tenantId: string, keyId: string): string {
    assertId(keyId, 'key id');
    return `${this.ofTenant(tenantId)}kspend:${keyId}`;
  }

  rateWindow(tenantId: string, keyId: string, windowId: number): string {
    assertId(keyId, 'key id');
    return `${this.ofTenant(tenantId)}rl:${keyId}:${windowId}`;
  }

  platformCapWindow(tenantId: string, provider: string, windowId: number): string {
    assertId(provider, 'provider');
    return `${this.ofTenant(tenantId)}pc:${tenantId}:${provider}:${windowId}`;
  }

  platformCapLeases(tenantId: string, provider: string): string {
    assertId(provider, 'provider');
    return `${this.ofTenant(tenantId)}pcl:${tenantId}:${provider}`;
  }

  settled(tenantId: string, requestId: string): string {
    assertId(requestId, 'request id');
    return `${this.ofTenant(tenantId)}done:${tenantId}:${requestId}`;
  }

  usageStream(bucket: number): string {
    return `${this.prefix}usage:{${checkBucket(bucket)}}`;
  }

  /** Entries of a usage stream that could not be charged, kept for an operator (same slot as the stream). */
  usageDeadLetter(bucket: number): string {
    return `${this.prefix}usage:{${checkBucket(bucket)}}:dead`;
  }

  usageStreamOf(tenantId: string): string {
    return this.usageStream(this.tenant(tenantId).bucket);
  }
}

function checkBucket(bucket: number): number {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKET_COUNT) throw new RangeError(`bad bucket: ${bucket}`);
  return bucket;
}
