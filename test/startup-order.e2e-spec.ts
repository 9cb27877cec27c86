import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '@gw/core';
import { postChat, startTestApp, type TestApp } from './support/test-app';
import { TcpProxy } from './support/tcp-proxy';

/**
 * Reliability T59, start-up order, with the real processes (`apps/<app>/dist/main.js`) started while
 * Postgres is still coming up:
 * - a billing worker neither crashes nor loses the usage waiting for it (LiteLLM #27704 lost
 *   minutes of spend per pod on rolling deploys that way): the usage stays in the Redis streams
 *   until Postgres answers, then every request is written once;
 * - a gateway is not ready (/readyz 503, naming what it waits for) until its catalog has loaded,
 *   and serves within seconds of Postgres answering (it answered "unknown model" for up to a
 *   minute, the catalog's refresh period);
 * - a gateway and a billing worker started before Redis answers wait for it
 *   (REDIS_STARTUP_WAIT_SECONDS), saying so in a few log lines (not a stack trace per reconnection
 *   attempt), and serve once it does (they exited at their first command).
 * The children run the built apps (`npm test` builds first; run `npm run build` before running this
 * file alone).
 */
jest.setTimeout(90_000);
let t: TestApp;
const proxies: TcpProxy[] = [];
const children: ChildProcess[] = [];
// Jest killed mid-file must not leave the spawned apps running.
process.once('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

beforeAll(async () => {
  // The gateway (in process) without a billing worker: the spawned one is the only drain.
  t = await startTestApp({}, { billingWorker: false });
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  for (const p of proxies) await p.cut();
  await t?.close();
});

/** A proxy to the local Redis that refuses connections until `restore()`. */
async function redisComingUp(): Promise<{ url: string; proxy: TcpProxy }> {
  const redis = new URL(process.env.REDIS_URL!);
  const proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
  proxies.push(proxy);
  redis.port = String(await proxy.start());
  await proxy.cut();
  return { url: redis.toString(), proxy };
}

/** A database URL through a proxy that refuses connections until `restore()` ("Postgres still coming up"). */
async function postgresComingUp(): Promise<{ url: string; proxy: TcpProxy }> {
  const db = new URL(t.config.DATABASE_URL);
  const proxy = new TcpProxy(db.hostname, Number(db.port || 5432));
  proxies.push(proxy);
  db.port = String(await proxy.start());
  await proxy.cut();
  return { url: db.toString(), proxy };
}

/** One of the apps as its own process, on this file's database and Redis prefix; its output is kept for failures. */
async function spawnApp(app: 'billing' | 'gateway', env: Record<string, string>): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [join(__dirname, '..', `apps/${app}/dist/main.js`)], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  return { child, base: `http://127.0.0.1:${port}`, output: () => output.slice(-3000) };
}

/** The test app's fake OpenAI as the spawned gateway's platform provider. */
const platformOpenAi = () => ({ OPENAI_API_KEY: 'sk-platform-openai', OPENAI_BASE_URL: `${t.openai.baseUrl}/v1`, SANDBOX: 'false', OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0' });

const postChatTo = (base: string, apiKey: string) =>
  fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
  });

const statusOf = async (url: string) => (await fetch(url).catch(() => null))?.status ?? 0;

async function until(ok: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return ok();
}

it('a billing worker started before Postgres answers keeps the waiting usage and writes each request once when it does', async () => {
  const { tenantId, apiKey } = await t.signup();
  expect((await t.grant(tenantId, 1)).status).toBe(201);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await postChat(t, apiKey);
    expect(r.status).toBe(200);
    ids.push(r.headers.get('x-request-id')!);
  }
  const balance = (await t.credits.getCredits(tenantId))!.balance;

  // Postgres "still coming up": the worker's address for it refuses connections.
  const pg = await postgresComingUp();
  const worker = await spawnApp('billing', { DATABASE_URL: pg.url, USAGE_DRAIN_INTERVAL_MS: '200' });

  // It comes up (readiness is Redis's, not Postgres's) and stays up while Postgres refuses.
  expect(await until(async () => (await statusOf(`${worker.base}/readyz`)) === 200, 30_000)).toBe(true);
  await new Promise((r) => setTimeout(r, 3_000));
  expect([worker.child.exitCode, worker.output()]).toEqual([null, expect.any(String)]);
  const ledger = () => t.prisma.ledgerEntry.count({ where: { idempotencyKey: { in: ids.map((id) => `usage:${id}`) } } });
  expect(await ledger()).toBe(0);

  // Postgres answers: the worker drains what waited, each request once.
  await pg.proxy.restore();
  expect(await until(async () => (await ledger()) === 5, 30_000)).toBe(true);
  // Another few drain passes change nothing.
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await ledger()).toBe(5);
  expect(await t.prisma.requestLog.count({ where: { requestId: { in: ids } } })).toBe(5);
  const sums = await t.prisma.ledgerEntry.aggregate({ where: { tenantId }, _sum: { amountMicros: true } });
  expect(sums._sum.amountMicros).toBe(balance);
  expect(worker.child.exitCode).toBeNull();
});

it('a gateway started before Postgres answers is not ready until its catalog has loaded, then serves at once', async () => {
  const { tenantId, apiKey } = await t.signup();
  expect((await t.grant(tenantId, 1)).status).toBe(201);
  const pg = await postgresComingUp();
  const gw = await spawnApp('gateway', { DATABASE_URL: pg.url, ...platformOpenAi() });
  expect(await until(async () => (await statusOf(`${gw.base}/healthz`)) === 200, 30_000)).toBe(true);
  const ready = await fetch(`${gw.base}/readyz`);
  expect([ready.status, await ready.json(), gw.output()]).toEqual([503, { status: 'starting', redis: 'ok', waiting_for: { catalog: expect.stringContaining('catalog') } }, expect.any(String)]);
  const chat = () => postChatTo(gw.base, apiKey);
  // Asked anyway (no load balancer in front): a retryable 503 (the key cannot be checked yet; the
  // catalog's own 503 is unit-tested in route-planner.service.spec.ts), never a 500.
  const early = await chat();
  expect([early.status, early.headers.get('retry-after')]).toEqual([503, expect.stringMatching(/^\d+$/)]);

  await pg.proxy.restore();
  const restoredAt = Date.now();
  expect(await until(async () => (await statusOf(`${gw.base}/readyz`)) === 200, 10_000)).toBe(true);
  // Ready within seconds of Postgres answering (the catalog's first load is retried every second;
  // before, the next try was the minute's refresh).
  expect(Date.now() - restoredAt).toBeLessThan(10_000);
  const served = await chat();
  expect([served.status, await served.clone().text(), gw.output()]).toEqual([200, expect.any(String), expect.any(String)]);
  expect(((await served.json()) as { model: string }).model).toBe('openai/gpt-4o-mini');
});

it('a gateway and a billing worker started before Redis answers wait for it, then serve', async () => {
  const { tenantId, apiKey } = await t.signup();
  expect((await t.grant(tenantId, 1)).status).toBe(201);
  const redis = await redisComingUp();
  const gw = await spawnApp('gateway', { REDIS_URL: redis.url, REDIS_STARTUP_WAIT_SECONDS: '60', ...platformOpenAi() });
  const worker = await spawnApp('billing', { REDIS_URL: redis.url, REDIS_STARTUP_WAIT_SECONDS: '60' });
  // Each says what it waits for ...
  expect(await until(async () => gw.output().includes('connection gw: connect ECONNREFUSED') && worker.output().includes('connect ECONNREFUSED'), 20_000)).toBe(true);
  await new Promise((r) => setTimeout(r, 1_500));
  for (const app of [gw, worker]) {
    // ... still waiting, not exited, not listening yet, and without a stack trace per attempt.
    expect([app.child.exitCode, app.output()]).toEqual([null, expect.not.stringMatching(/^\s+at |Unhandled error event/m)]);
    expect(await statusOf(`${app.base}/healthz`)).toBe(0);
  }

  await redis.proxy.restore();
  for (const app of [gw, worker]) expect(await until(async () => (await statusOf(`${app.base}/readyz`)) === 200, 20_000)).toBe(true);
  const served = await postChatTo(gw.base, apiKey);
  expect([served.status, gw.output()]).toEqual([200, expect.any(String)]);
});
