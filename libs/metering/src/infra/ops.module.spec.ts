import { type ChildProcess, spawn } from 'node:child_process';
import type { FastifyReply } from 'fastify';
import { Redis } from 'ioredis';
import { loadConfig, ReadinessGates, freePort } from '@gw/core';
import { OpsController } from './ops.module';

/** What /readyz answered: its status code and body. */
async function readyz(redis: Redis, gates = new ReadinessGates()): Promise<{ status: number; body: Record<string, unknown> }> {
  const out = { status: 200, body: {} as Record<string, unknown> };
  const reply = {
    status(code: number) {
      out.status = code;
      return reply;
    },
    send(body: Record<string, unknown>) {
      out.body = body;
      return reply;
    },
  };
  await new OpsController(redis, gates, loadConfig({})).ready(reply as unknown as FastifyReply);
  return out;
}

describe('GET /readyz and the Redis eviction policy (reliability T57)', () => {
  // The shared Redis runs with noeviction; the policy is server-wide, so the evicting case gets
  // a Redis of its own instead of changing the one every other test uses.
  let evicting: ChildProcess;
  let own: Redis;
  const shared = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });

  beforeAll(async () => {
    const port = await freePort();
    evicting = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let log = '';
      evicting.once('error', reject);
      evicting.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${log}`)));
      evicting.stdout!.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('Ready to accept connections')) resolve();
      });
    });
    own = new Redis({ port, host: '127.0.0.1' });
  });

  afterAll(async () => {
    own?.disconnect();
    shared.disconnect();
    if (evicting && evicting.exitCode === null) {
      const exited = new Promise((resolve) => evicting.once('exit', resolve));
      evicting.kill('SIGKILL');
      await exited;
    }
  });

  it('is ready on a Redis that never evicts', async () => {
    expect(await shared.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await readyz(shared)).toEqual({ status: 200, body: { status: 'ready', redis: 'ok' } });
  });

  it('is not ready while Redis may evict keys, and says why', async () => {
    const r = await readyz(own);
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'not_ready', redis: 'evicting', maxmemory_policy: 'allkeys-lru' });
    expect(r.body.reason).toMatch(/noeviction/);
    await own.config('SET', 'maxmemory-policy', 'noeviction');
    expect((await readyz(own)).status).toBe(200);
  });

  it('is not ready when Redis does not answer', async () => {
    const gone = new Redis({ port: await freePort(), host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    await gone.connect().catch(() => undefined);
    expect(await readyz(gone)).toEqual({ status: 503, body: { status: 'not_ready', redis: 'unavailable' } });
    gone.disconnect();
  });

  it('is not ready while a component has not loaded once (a process started during a Postgres outage), and says what it waits for', async () => {
    const gates = new ReadinessGates();
    gates.hold('catalog', 'the model catalog has not loaded from Postgres yet');
    expect(await readyz(shared, gates)).toEqual({ status: 503, body: { status: 'starting', redis: 'ok', waiting_for: { catalog: 'the model catalog has not loaded from Postgres yet' } } });
    gates.release('catalog');
    expect(await readyz(shared, gates)).toEqual({ status: 200, body: { status: 'ready', redis: 'ok' } });
  });
});

describe('GET /metrics', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  afterAll(() => redis.disconnect());

  async function scrape(config: ReturnType<typeof loadConfig>, authorization?: string): Promise<{ status: number; body: unknown }> {
    const out = { status: 200, body: undefined as unknown };
    const reply = {
      status(code: number) {
        out.status = code;
        return reply;
      },
      headers() {
        return reply;
      },
      header() {
        return reply;
      },
      send(body: unknown) {
        out.body = body;
        return reply;
      },
    };
    await new OpsController(redis, new ReadinessGates(), config).metrics({ headers: { authorization } } as never, reply as unknown as FastifyReply);
    return out;
  }

  it('answers anyone without METRICS_TOKEN, and with it only a scraper that presents it', async () => {
    expect((await scrape(loadConfig({}))).status).toBe(200);
    const guarded = loadConfig({ METRICS_TOKEN: 'metrics-token-0123456789' });
    expect((await scrape(guarded)).status).toBe(401);
    expect((await scrape(guarded, 'Bearer wrong-token-0123456789xx')).status).toBe(401);
    const ok = await scrape(guarded, 'Bearer metrics-token-0123456789');
    expect(ok.status).toBe(200);
    expect(String(ok.body)).toContain('# HELP');
  });
});
