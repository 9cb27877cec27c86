import { crc32 } from 'node:zlib';
import { assertId, BUCKET_COUNT, bucketOf, RedisKeys } from './redis-keys';

/** Redis Cluster's rule: the hash tag is the text between the first '{' and the next '}'. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  if (open < 0 || close <= open + 1) return key;
  return key.slice(open + 1, close);
}

describe('bucketOf', () => {
  it('is crc32(tenant id) mod 256', () => {
    expect(crc32('hello')).toBe(0x3610a686);
    expect(bucketOf('hello')).toBe(0x86);
    for (const t of ['ten_a', 'ten_b', 'ünïcode', 'x'.repeat(200)]) {
      const b = bucketOf(t);
      expect(b).toBe(crc32(Buffer.from(t, 'utf8')) % 256);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(BUCKET_COUNT);
    }
  });

  it('spreads tenants over the buckets', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) seen.add(bucketOf(`ten_${i}`));
    expect(seen.size).toBeGreaterThan(250);
  });
});

describe('RedisKeys', () => {
  const keys = new RedisKeys('p1:');
  const t = 'ten_abc';
  const b = bucketOf(t);

  it('puts every key of a tenant and its usage stream under the bucket hash tag', () => {
    const all = [
      keys.balance(t),
      keys.holds(t),
      keys.holdExpiryOf(t),
      keys.keyStatus(t, 'key_1'),
      keys.keySpend(t, 'key_1'),
      keys.rateWindow(t, 'key_1', 12345),
      keys.settled(t, 'gen-1'),
      keys.usageStreamOf(t),
    ];
    for (const k of all) {
      expect(k.startsWith('p1:')).toBe(true);
      expect(hashTag(k)).toBe(String(b));
    }
    expect(new Set(all).size).toBe(all.length);
  });

  it('names keys as documented', () => {
    expect(keys.balance(t)).toBe(`p1:gw:{${b}}:bal:${t}`);
    expect(keys.keyStatus(t, 'key_1')).toBe(`p1:gw:{${b}}:ks:key_1`);
    expect(keys.usageStream(b)).toBe(`p1:usage:{${b}}`);
    expect(keys.holdExpiry(b)).toBe(`p1:gw:{${b}}:hexp`);
  });

  it('refuses ids that could break names or zset members', () => {
    for (const bad of ['', 'a|b', 'a:b', 'a{b}', 'a b', 'x'.repeat(201)]) {
      expect(() => assertId(bad, 'id')).toThrow(RangeError);
    }
    expect(() => keys.balance('a|b')).toThrow(RangeError);
    expect(() => keys.usageStream(256)).toThrow(RangeError);
    expect(() => new RedisKeys('p{1}:')).toThrow(RangeError);
  });
});
