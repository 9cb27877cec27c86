import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { DomainError } from '@gw/core';
import { PlatformCapLimiter, RedisKeys } from '@gw/metering';
import { PlatformCapGate } from './platform-cap-gate';

describe('PlatformCapGate (real Redis)', () => {
  const prefix = `${process.env.REDIS_PREFIX ?? 'tgate:'}g${randomBytes(5).toString('hex')}:`;
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  // Leases of 600 ms, renewed every 200 ms while held.
  const gate = new PlatformCapGate(new PlatformCapLimiter(redis, new RedisKeys(prefix), 600));
  const caps = { openai: { concurrency: 1 } };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  afterAll(async () => {
    const found = await redis.keys(`${prefix}*`);
    if (found.length) await redis.del(...found);
    await redis.quit();
  });

  it('keeps a long attempt\'s slot past its lease time, and frees it on release', async () => {
    const slot = await gate.take('t1', 'openai', caps, 'long');
    expect(slot).not.toBeInstanceOf(DomainError);
    await sleep(1_500);
    expect(await gate.take('t1', 'openai', caps, 'other')).toBeInstanceOf(DomainError);
    (slot as { release(): void }).release();
    await sleep(50);
    const next = await gate.take('t1', 'openai', caps, 'other');
    expect(next).not.toBeInstanceOf(DomainError);
    (next as { release(): void }).release();
  });

  it('touches no Redis key for a provider without a cap', async () => {
    const slot = await gate.take('t2', 'anthropic', caps, 'x');
    expect(slot).not.toBeInstanceOf(DomainError);
    expect(await redis.keys(`${prefix}*t2*`)).toEqual([]);
  });
});
