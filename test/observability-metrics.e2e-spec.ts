import { Queue } from 'bullmq';
import { startTestApp, type TestApp } from './support/test-app';
import { TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/billing';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => Array<{ name: string; type: string; metrics: Array<{ labels?: Record<string, string>; value?: string }> }>;

/**
 * /metrics beyond the data plane: BullMQ queue depths by state and job failures, Redis and
 * Postgres health, parsed with a Prometheus text parser and checked against what the test did.
 */
// Booting the real app(s) takes seconds on a loaded machine.
jest.setTimeout(60_000);
type Families = ReturnType<typeof parsePrometheus>;

async function scrape(t: TestApp): Promise<Families> {
  const started = Date.now();
  const res = await fetch(`${t.url}/metrics`);
  expect(res.status).toBe(200);
  const families = parsePrometheus(await res.text());
  // A dead dependency never stalls a scrape: every probe is bounded by a second.
  expect(Date.now() - started).toBeLessThan(3_000);
  return families;
}

function value(f: Families, name: string, labels: Record<string, string> = {}): number | undefined {
  const m = f.find((x) => x.name === name)?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}

describe('queue depths and failures', () => {
  let t: TestApp;
  const queues: Queue[] = [];
  beforeAll(async () => {
    // The observability worker runs; the billing worker does not, so billing queues only fill.
    // Its own Redis prefix: queue depths are this suite's jobs only.
    t = await startTestApp({ REDIS_PREFIX: `${process.env.REDIS_PREFIX}queues:` }, { billingWorker: false, observabilityWorker: true });
  });
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await t?.close();
  });

  const queue = (name: string) => {
    const u = new URL(t.config.REDIS_URL!);
    // Connection options, not a client: the queue then owns its connection and closes it.
    const q = new Queue(name, { connection: { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null }, prefix: `${t.config.REDIS_PREFIX}bull` });
    queues.push(q);
    return q;
  };

  it('reports every queue by state, and counts what was added and what failed', async () => {
    const before = await scrape(t);
    for (const q of ['billing', 'billing-payments', 'observability']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) expect([q, state, value(before, 'gw_queue_jobs', { queue: q, state })]).toEqual([q, state, expect.any(Number)]);
    }
    const depth = (f: Families, queue: string, state: string) => value(f, 'gw_queue_jobs', { queue, state })!;

    const payments = queue('billing-payments');
    const billing = queue('billing');
    const observability = queue('observability');
    const waiting = await Promise.all([1, 2, 3].map((i) => payments.add('metrics.test.waiting', { i })));
    const delayed = await Promise.all([1, 2].map((i) => billing.add('metrics.test.delayed', { i }, { delay: 3_600_000 })));
    const failedBefore = depth(before, 'observability', 'failed');
    const failuresBefore = value(before, 'gw_jobs_failed_total', { queue: 'observability', job: 'no.such.job' }) ?? 0;
    // A job name the worker has no handler for fails loudly (and, with one attempt, for good).
    await observability.add('no.such.job', {}, { attempts: 1 });
    await waitFor('the failed job', async () => (await observability.getJobCounts('failed')).failed > failedBefore);

    const after = await scrape(t);
    expect(depth(after, 'billing-payments', 'waiting')).toBe(depth(before, 'billing-payments', 'waiting') + 3);
    expect(depth(after, 'billing', 'delayed')).toBe(depth(before, 'billing', 'delayed') + 2);
    expect(depth(after, 'observability', 'failed')).toBe(failedBefore + 1);
    expect(value(after, 'gw_jobs_failed_total', { queue: 'observability', job: 'no.such.job' })).toBe(failuresBefore + 1);
    expect(after.find((x) => x.name === 'gw_queue_jobs')?.type).toBe('GAUGE');
    expect(after.find((x) => x.name === 'gw_jobs_failed_total')?.type).toBe('COUNTER');

    await Promise.all([...waiting, ...delayed].map((j) => j.remove()));
    const cleaned = await scrape(t);
    expect(depth(cleaned, 'billing-payments', 'waiting')).toBe(depth(before, 'billing-payments', 'waiting'));
    expect(depth(cleaned, 'billing', 'delayed')).toBe(depth(before, 'billing', 'delayed'));
  });

  it('reports Redis and Postgres up, with their round trips', async () => {
    const f = await scrape(t);
    expect(value(f, 'gw_redis_up')).toBe(1);
    expect(value(f, 'gw_postgres_up')).toBe(1);
    expect(value(f, 'gw_redis_ping_seconds')).toBeGreaterThan(0);
    expect(value(f, 'gw_postgres_ping_seconds')).toBeGreaterThan(0);
    expect(f.find((x) => x.name === 'gw_redis_up')?.type).toBe('GAUGE');
  });
});

describe('dependency health', () => {
  let t: TestApp;
  let pg: TcpProxy;
  let redis: TcpProxy;
  beforeAll(async () => {
    const db = new URL(process.env.DATABASE_URL!);
    const rd = new URL(process.env.REDIS_URL!);
    pg = new TcpProxy(db.hostname, Number(db.port || 5432));
    redis = new TcpProxy(rd.hostname, Number(rd.port || 6379));
    db.port = String(await pg.start());
    rd.port = String(await redis.start());
    t = await startTestApp({ REDIS_PREFIX: `${process.env.REDIS_PREFIX}health:`, DATABASE_URL: db.toString(), REDIS_URL: rd.toString() }, { billingWorker: false });
  });
  afterAll(async () => {
    await t?.close();
    await pg?.cut();
    await redis?.cut();
  });

  it('reports Postgres down while it is unreachable, and up again after', async () => {
    expect(value(await scrape(t), 'gw_postgres_up')).toBe(1);
    await pg.cut();
    const down = await scrape(t);
    expect(value(down, 'gw_postgres_up')).toBe(0);
    expect(value(down, 'gw_redis_up')).toBe(1);
    await pg.restore();
    await waitFor('postgres up', async () => value(await scrape(t), 'gw_postgres_up') === 1);
  });

  it('reports Redis down while it is unreachable (and still answers the scrape), and up again after', async () => {
    await redis.cut();
    const down = await scrape(t);
    expect(value(down, 'gw_redis_up')).toBe(0);
    expect(value(down, 'gw_postgres_up')).toBe(1);
    await redis.restore();
    await waitFor('redis up', async () => value(await scrape(t), 'gw_redis_up') === 1, 15_000);
  });
});
