import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by EVALSHA, falling back to EVAL (which also loads it) when the server answers
 * NOSCRIPT: after a restart, a failover or SCRIPT FLUSH. Every key a script touches is passed in
 * KEYS and shares the tenant's hash tag, so the scripts run unchanged on Redis Cluster.
 *
 * Replies are arrays of strings: numbers leave Lua through string.format('%.0f'), because a Lua
 * number returned as such is truncated to an integer reply and tostring() switches to exponent
 * notation above 1e14.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly string[]): Promise<string[]> {
    let reply: unknown;
    try {
      reply = await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      reply = await redis.eval(this.source, keys.length, ...keys, ...args);
    }
    return toStrings(reply, this.name);
  }
}

function toStrings(reply: unknown, name: string): string[] {
  if (!Array.isArray(reply)) throw new Error(`script ${name} returned a non-array reply`);
  return reply.map((v) => {
    if (typeof v === 'string') return v;
    if (Buffer.isBuffer(v)) return v.toString('utf8');
    if (typeof v === 'number') return String(v);
    throw new Error(`script ${name} returned an unexpected element: ${typeof v}`);
  });
}
