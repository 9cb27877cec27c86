/** Where and how to reach Redis, as ioredis (and BullMQ) take it. */
export interface RedisConnection {
  host?: string;
  port?: number;
  /** A Unix socket instead of TCP. */
  path?: string;
  username?: string;
  password?: string;
  db: number;
  tls?: Record<string, never>;
}

/**
 * REDIS_URL to connection options: `redis://[user:password@]host[:port][/db]`, `rediss://` for
 * TLS, or `unix:///path/to/redis.sock[?db=N&password=...&username=...]` for a Redis on the same
 * host (a Unix socket costs both sides less CPU per command than loopback TCP).
 */
export function redisConnectionOf(url: string): RedisConnection {
  const u = new URL(url);
  const db = (raw: string | null | undefined): number => {
    if (!raw) return 0;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`REDIS_URL: database must be a non-negative integer, got "${raw}"`);
    return n;
  };
  if (u.protocol === 'unix:') {
    if (u.hostname !== '' || u.pathname.length <= 1) throw new Error('REDIS_URL: a Unix socket is written unix:///absolute/path/to/redis.sock');
    const q = u.searchParams;
    return {
      path: decodeURIComponent(u.pathname),
      username: q.get('username') ?? undefined,
      password: q.get('password') ?? undefined,
      db: db(q.get('db')),
    };
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`REDIS_URL: unsupported scheme ${u.protocol} (redis:, rediss: or unix:)`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: db(u.pathname.slice(1)),
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}
