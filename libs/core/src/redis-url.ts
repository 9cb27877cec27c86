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
  /** IP family of the host (4 or 6); ioredis resolves either by default. */
  family?: 4 | 6;
}

/** Query parameters a REDIS_URL may carry; anything else is refused rather than silently ignored. */
const QUERY = { tcp: ['family'], unix: ['db', 'password', 'username'] } as const;

/**
 * REDIS_URL to connection options: `redis://[user:password@]host[:port][/db][?family=6]`,
 * `rediss://` for TLS, or `unix:///path/to/redis.sock[?db=N&password=...&username=...]` for a Redis
 * on the same host (a Unix socket costs both sides less CPU per command than loopback TCP).
 * Values are percent-decoded (a `+` stays a `+`). Throws an Error saying what is wrong.
 */
export function redisConnectionOf(url: string): RedisConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('not a URL (redis://host:6379, rediss://host:6380 or unix:///path/to/redis.sock)');
  }
  const unix = u.protocol === 'unix:';
  if (!unix && u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`unsupported scheme ${u.protocol} (redis:, rediss: or unix:)`);
  const query = queryOf(u.search, unix ? QUERY.unix : QUERY.tcp);
  const db = (raw: string | undefined): number => {
    if (!raw) return 0;
    if (!/^\d{1,5}$/.test(raw)) throw new Error(`the database must be a non-negative integer, got "${raw}"`);
    return Number(raw);
  };
  if (unix) {
    if (u.hostname !== '' || !u.pathname.startsWith('/') || u.pathname.length <= 1 || u.pathname.endsWith('/')) throw new Error('a Unix socket is written unix:///absolute/path/to/redis.sock');
    return { path: decodeURIComponent(u.pathname), username: query.username, password: query.password, db: db(query.db) };
  }
  let family: 4 | 6 | undefined;
  if (query.family !== undefined) {
    if (query.family !== '4' && query.family !== '6') throw new Error(`family must be 4 or 6, got "${query.family}"`);
    family = Number(query.family) as 4 | 6;
  }
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: db(u.pathname.slice(1)),
    tls: u.protocol === 'rediss:' ? {} : undefined,
    ...(family === undefined ? {} : { family }),
  };
}

function queryOf(search: string, allowed: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    if (!allowed.includes(key)) throw new Error(`unknown parameter "${key}" (allowed here: ${allowed.join(', ')})`);
    out[key] = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
  }
  return out;
}
