// The processes a bench or soak run starts (fake upstream, the project's apps, the passthrough),
// each `node -r child-guard <script>` with its output in a log file, and what they leave behind:
// a private database and a Redis prefix, removed by cleanup().
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { request } from 'undici';

const require = createRequire(import.meta.url);
const pg = require('pg');
const { Redis } = require('ioredis');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A non-negative number from the environment, or `def` when unset. */
export function envNumber(name, def) {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
  return n;
}

/** The environment of the project's apps: nothing inherited that could point them elsewhere. */
export function inheritedEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/(_API_KEY|_BASE_URL)$/.test(k) && !/^(DATABASE_URL|REDIS_URL|REDIS_PREFIX|PORT|HOST|NODE_OPTIONS|SANDBOX|LOG_LEVEL)$/.test(k)),
  );
}

export function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function pgAdmin(pgUrl, fn) {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

export function tail(file, n = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

export class Stack {
  /**
   * @param {{ root: string, logDir: string, pgUrl: string, redisUrl: string, dbName: string, redisPrefix: string, pin?: boolean, log: (...a: unknown[]) => void }} o
   */
  constructor(o) {
    this.o = o;
    /** @type {{name: string, proc: import('node:child_process').ChildProcess, logFile: string, exited: boolean, code: unknown}[]} */
    this.children = [];
    this.dbTouched = false;
    this.cleanupPromise = null;
  }

  /** Creates and migrates the run's private database; returns its URL. */
  migrate() {
    const databaseUrl = withDatabase(this.o.pgUrl, this.o.dbName);
    this.dbTouched = true;
    execFileSync(process.execPath, [path.join(this.o.root, 'scripts/prisma-wasm-migrate.mjs'), 'deploy', '-q'], {
      cwd: this.o.root,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return databaseUrl;
  }

  /** The environment of the project's apps on the run's database and Redis prefix, calling `upstreamUrl` as OpenAI. */
  appEnv(databaseUrl, upstreamUrl, upstreamKey, extra = {}) {
    return {
      ...inheritedEnv(),
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(24).toString('hex'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      DATABASE_URL: databaseUrl,
      REDIS_URL: this.o.redisUrl,
      REDIS_PREFIX: this.o.redisPrefix,
      HOST: '127.0.0.1',
      OPENAI_API_KEY: upstreamKey,
      OPENAI_BASE_URL: `${upstreamUrl}/v1`,
      SANDBOX: 'false',
      LOG_LEVEL: 'warn',
      ...extra,
    };
  }

  /**
   * Runs the admin app just long enough to seed the catalog, sign a tenant up and credit it
   * `usd`; returns the tenant and its API key (`{ id, key, ... }`).
   */
  /**
   * Signs a tenant up and funds it through a short-lived admin process; with `keepAdmin` the
   * process stays up (the caller uses `adminUrl` and the owner's `token`, and stops `admin`).
   */
  async fundedTenant(appEnv, name, usd, cpu, { keepAdmin = false } = {}) {
    const adminToken = `${name}-admin-${randomBytes(12).toString('hex')}`;
    const port = await freePort();
    const admin = this.spawnNode('admin', path.join(this.o.root, 'apps/admin/dist/main.js'), { ...appEnv, PORT: String(port), ADMIN_TOKEN: adminToken }, cpu);
    const adminUrl = `http://127.0.0.1:${port}`;
    await this.waitHttpReady(admin, `${adminUrl}/readyz`);
    const signup = await request(`${adminUrl}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${name}-${this.o.dbName}@example.com`, password: `${name} password ${this.o.dbName} correct horse` }),
    });
    const signupText = await signup.body.text();
    if (signup.statusCode !== 201) throw new Error(`signup failed: ${signup.statusCode} ${signupText}`);
    const { tenant, api_key: apiKey, token } = JSON.parse(signupText);
    const grant = await request(`${adminUrl}/api/admin/tenants/${tenant.id}/credits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}`, 'idempotency-key': `${name}-${this.o.dbName}` },
      body: JSON.stringify({ amount: usd, reason: `${name} funding` }),
    });
    const grantText = await grant.body.text();
    if (grant.statusCode < 200 || grant.statusCode > 299) throw new Error(`credit grant failed: ${grant.statusCode} ${grantText}`);
    if (keepAdmin) return { tenant, apiKey, token, admin, adminUrl };
    await this.stopChild(admin);
    return { tenant, apiKey };
  }

  /** Starts `node -r child-guard <script>` (optionally pinned to a CPU) with its output in a log file. */
  spawnNode(name, script, childEnv, cpu, preloads = [], nodeFlags = []) {
    const logFile = path.join(this.o.logDir, `${name}.log`);
    const fd = fs.openSync(logFile, 'a');
    // --expose-gc only lets a run force a full GC when it asks (live heap vs garbage).
    const nodeArgs = ['--expose-gc', ...nodeFlags, '-r', path.join(this.o.root, 'bench/lib/child-guard.cjs'), ...preloads.flatMap((f) => ['-r', f]), script];
    const pinned = this.o.pin && cpu !== undefined;
    const proc = spawn(pinned ? 'taskset' : process.execPath, pinned ? ['-c', String(cpu), process.execPath, ...nodeArgs] : nodeArgs, {
      cwd: this.o.root,
      env: childEnv,
      stdio: ['ignore', fd, fd, 'ipc'],
    });
    fs.closeSync(fd);
    const child = { name, proc, logFile, exited: false, code: null };
    proc.on('exit', (code, signal) => {
      child.exited = true;
      child.code = code ?? signal;
    });
    proc.on('error', (e) => {
      child.exited = true;
      child.code = String(e);
    });
    this.children.push(child);
    return child;
  }

  async waitMessage(child, type, timeoutMs = 30_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${child.name}: no '${type}' message after ${timeoutMs} ms\n${tail(child.logFile)}`)), timeoutMs);
      const onMsg = (m) => m?.type === type && done(null, m);
      const onExit = (code) => done(new Error(`${child.name} exited (${code}) before '${type}'\n${tail(child.logFile)}`));
      function done(err, m) {
        clearTimeout(timer);
        child.proc.off('message', onMsg);
        child.proc.off('exit', onExit);
        if (err) reject(err);
        else resolve(m);
      }
      child.proc.on('message', onMsg);
      child.proc.on('exit', onExit);
    });
  }

  async waitHttpReady(child, url, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exited) throw new Error(`${child.name} exited (${child.code}) during start-up:\n${tail(child.logFile)}`);
      try {
        const r = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
        await r.body.text();
        if (r.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms:\n${tail(child.logFile)}`);
      await sleep(100);
    }
  }

  async stopChild(child, graceMs = 8000) {
    if (child.exited || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
    const exited = once(child.proc, 'exit').catch(() => undefined);
    try {
      child.proc.kill('SIGTERM');
    } catch {
      return;
    }
    const timer = sleep(graceMs).then(() => 'timeout');
    if ((await Promise.race([exited, timer])) === 'timeout') {
      this.o.log(`${child.name} did not stop in ${graceMs} ms: SIGKILL`);
      try {
        child.proc.kill('SIGKILL');
      } catch {
        // already gone
      }
      await Promise.race([exited, sleep(2000)]);
    }
  }

  /** Keys under the run's Redis prefix: counted, or unlinked. */
  async redisKeys(unlink = false) {
    const r = new Redis(this.o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    let n = 0;
    try {
      await r.connect();
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${this.o.redisPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) n += unlink ? await r.unlink(...keys) : keys.length;
      } while (cursor !== '0');
    } finally {
      r.disconnect();
    }
    return n;
  }

  /** Stops every child, drops the database and deletes the Redis keys; once. */
  cleanup() {
    this.cleanupPromise ??= (async () => {
      await Promise.all(this.children.map((c) => this.stopChild(c).catch(() => undefined)));
      if (this.dbTouched) {
        await pgAdmin(this.o.pgUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${this.o.dbName}" WITH (FORCE)`))
          .then(() => this.o.log(`dropped database ${this.o.dbName}`))
          .catch((e) => this.o.log(`could not drop database ${this.o.dbName}: ${e.message}`));
      }
      await this.redisKeys(true)
        .then((n) => this.o.log(`deleted ${n} Redis keys under ${this.o.redisPrefix}`))
        .catch((e) => this.o.log(`could not delete Redis keys under ${this.o.redisPrefix}: ${e.message}`));
    })();
    return this.cleanupPromise;
  }

  /** Kills what still runs when the parent exits, and cleans up on Ctrl-C and SIGTERM. */
  installExitHandlers() {
    process.on('exit', () => {
      for (const c of this.children) if (!c.exited) try { c.proc.kill('SIGKILL'); } catch { /* gone */ }
    });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(sig, () => {
        this.o.log(`${sig}: stopping and cleaning up`);
        this.cleanup().finally(() => process.exit(130));
      });
    }
  }
}
