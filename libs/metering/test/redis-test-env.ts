import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisKeys } from '../src/redis-keys';

const REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * A real Redis shared with other test runs: every key this suite creates is under the jest
 * worker's REDIS_PREFIX plus a random suffix, and `cleanup` deletes exactly those keys.
 */
export class RedisTestEnv {
  private readonly clients: Redis[] = [];
  readonly prefix = `${process.env.REDIS_PREFIX ?? 'tmeter:'}m${randomBytes(5).toString('hex')}:`;
  readonly keys = new RedisKeys(this.prefix);
  readonly redis = this.client();

  /** Another connection, for real concurrency between clients. */
  client(): Redis {
    const r = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
    this.clients.push(r);
    return r;
  }

  async cleanup(): Promise<void> {
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length) await this.redis.del(...found);
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    await this.cleanup();
    await Promise.all(this.clients.map((r) => r.quit().catch(() => undefined)));
  }
}

let seq = 0;
/** Unique ids per test (ids feed key names: no ':' or '|'). */
export function uid(kind: string): string {
  seq += 1;
  return `${kind}_${seq.toString(36)}${randomBytes(3).toString('hex')}`;
}
