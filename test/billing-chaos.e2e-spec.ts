import { Redis } from 'ioredis';
import { ReconciliationService, UsageWriter } from '@gw/billing';
import { RedisRecovery } from '@gw/billing/worker';
import { BUCKET_COUNT, CreditStore, RedisKeys, UsageStream } from '@gw/metering';
import type { FakeBehaviour } from '@gw/testing';
import { api, checkout, ledgerSum, startBillingApp, waitFor, type BillingApp } from './support/billing';

/**
 * The money soak: several thousand requests with faults everywhere (upstream errors, cut streams,
 * missing usage, clients that go away, duplicated and reordered webhooks, top-ups, refunds, auto
 * top-ups, drain workers that die holding a batch, drains and reconciliations running all along),
 * then: ledger sum == Redis balance == /v1/credits for every tenant, to the micro, and every charge
 * the client was told about is the charge in the ledger.
 */
const REQUESTS = Number(process.env.CHAOS_REQUESTS ?? 3000);
const CONCURRENCY = 40;
const TENANTS = 6;

let b: BillingApp;
let redis: Redis;
/** Ends the sampler even when an assertion fails mid-run. */
let afterStop: (() => void) | undefined;

beforeAll(async () => {
  b = await startBillingApp({ USAGE_DRAIN_INTERVAL_MS: '200', RECONCILE_INTERVAL_MS: '700', AUTO_TOPUP_SCAN_INTERVAL_MS: '500' });
  redis = new Redis(b.t.config.REDIS_URL!);
});
afterAll(async () => {
  afterStop?.();
  await redis?.quit();
  await b?.close();
});

const rnd = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(a: readonly T[]): T => a[rnd(a.length)];
const chance = (p: number) => Math.random() < p;

interface Tenant {
  tenantId: string;
  token: string;
  keys: string[];
  limited: { id: string; micros: bigint };
}

interface Outcome {
  id: string;
  status: number;
  /** The charge the client was told (usage.cost), when it was told one. */
  costMicros?: bigint;
}

/** Every prompt is this long: the hold's prompt bound (its bytes) covers any reported prompt below it. */
const PROMPT = 'x'.repeat(3000);

function behaviour(model: string, stream: boolean): FakeBehaviour {
  const promptTokens = 10 + rnd(PROMPT.length - 10);
  const ok: FakeBehaviour = { completionTokens: 1 + rnd(800), promptTokens, cachedTokens: rnd(promptTokens / 2), deltas: 1 + rnd(6), chunkDelayMs: stream ? rnd(3) : 0 };
  const r = Math.random();
  if (r < 0.06) return { status: pick([500, 502, 503, 429, 400]) };
  if (stream && r < 0.11) return { ...ok, deltas: 6, cutAfterEvents: 2 + rnd(3), cutMode: pick(['destroy', 'end', 'mid-event'] as const) };
  if (stream && r < 0.14) return { ...ok, deltas: 6, errorAfterEvents: 2 };
  if (stream && model.startsWith('openai') && r < 0.2) return { ...ok, usage: 'none' };
  return ok;
}

async function request(t: Tenant): Promise<Outcome> {
  const model = pick(['openai/gpt-4o-mini', 'openai/gpt-4o', 'anthropic/claude-sonnet-4.5', 'deepseek/deepseek-chat']);
  const stream = chance(0.6);
  const includeUsage = stream && chance(0.6);
  const abort = stream && chance(0.06);
  (model.startsWith('anthropic') ? b.t.anthropic : b.t.openai).enqueue(behaviour(model, stream));
  const ac = new AbortController();
  const res = await fetch(`${b.t.url}/v1/chat/completions`, {
    method: 'POST',
    signal: ac.signal,
    headers: { authorization: `Bearer ${pick(t.keys)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, ...(includeUsage ? { stream_options: { include_usage: true } } : {}), max_tokens: 20 + rnd(1500), messages: [{ role: 'user', content: PROMPT }] }),
  });
  const id = res.headers.get('x-request-id') ?? '';
  if (!stream || res.status !== 200) {
    const body = (await res.json()) as { usage?: { cost: number } };
    return { id, status: res.status, costMicros: body.usage ? BigInt(Math.round(body.usage.cost * 1e6)) : undefined };
  }
  if (abort) {
    await res.body!.getReader().read();
    ac.abort();
    return { id, status: 499 };
  }
  const text = await res.text();
  if (!text.includes('data: [DONE]')) return { id, status: 502 };
  const usage = [...text.matchAll(/"cost":([0-9.e-]+)/g)].pop();
  return { id, status: 200, costMicros: usage ? BigInt(Math.round(Number(usage[1]) * 1e6)) : undefined };
}

async function topUp(t: Tenant, usd: number): Promise<void> {
  const sessionId = await checkout(b.t, t.token, usd);
  b.stripe.setDelivery({ copies: 1 + rnd(3), concurrent: chance(0.5), order: pick(['as-emitted', 'reverse', 'shuffle'] as const), delayMs: rnd(30) });
  if (chance(0.3)) {
    b.stripe.completeCheckout(sessionId, 'unpaid');
    setTimeout(() => b.stripe.settleAsyncPayment(sessionId, true), rnd(200));
  } else {
    b.stripe.completeCheckout(sessionId, 'paid');
  }
}

/** Refunds are debits nobody reserved: they may take a balance below zero (then requests get 402). */
const refunded = new Map<string, bigint>();

function refundSome(): void {
  const charges = b.stripe.charges().filter((c) => c.amount - c.amount_refunded >= 100);
  if (!charges.length) return;
  const charge = pick(charges);
  const tenantId = b.stripe.state.paymentIntents.get(charge.payment_intent)!.metadata.tenant_id;
  const r = b.stripe.refund(charge.payment_intent, 50 + rnd(50));
  refunded.set(tenantId, (refunded.get(tenantId) ?? 0n) + BigInt(r.amount) * 10_000n);
}

/** Deletes every key under this suite's Redis prefix (never FLUSHALL: other suites share the server). */
async function flushPrefix(): Promise<void> {
  let cursor = '0';
  do {
    const [nextCursor, found] = await redis.scan(cursor, 'MATCH', `${b.t.config.REDIS_PREFIX}*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (found.length) await redis.unlink(...found);
  } while (cursor !== '0');
}

/** A drain worker that reads a batch and dies before acknowledging it. */
async function dyingWorker(n: number): Promise<void> {
  const stream = new UsageStream(redis, new RedisKeys(b.t.config.REDIS_PREFIX), { consumer: `dead-${n}` });
  await stream.readUsage(rnd(BUCKET_COUNT), 50);
}

describe('a randomized run with faults', () => {
  it(`${REQUESTS} requests end with ledger == Redis == /v1/credits for every tenant, to the micro`, async () => {
    const started = Date.now();
    const store = b.t.app.get(CreditStore);
    const forced = jest.spyOn(store, 'forceBalance');
    const tenants: Tenant[] = [];
    for (let i = 0; i < TENANTS; i++) {
      const s = await b.t.signup();
      const c = api(b.t, s.token);
      const limited = (await c.post('/api/keys', { name: 'limited', credit_limit: 0.5, limit_reset: 'daily' })).body;
      const t: Tenant = { tenantId: s.tenantId, token: s.token, keys: [s.apiKey, limited.key], limited: { id: limited.id, micros: 500_000n } };
      tenants.push(t);
      b.stripe.completeCheckout(await checkout(b.t, s.token, 1 + rnd(3), i < 2), 'paid', `pm_chaos_${i}`);
      await b.stripe.idle();
      if (i < 2) expect((await c.put('/api/billing/auto-topup', { enabled: true, threshold: 1, amount: 1 })).status).toBe(200);
    }

    let stop = false;
    afterStop = () => (stop = true);
    const violations: string[] = [];
    const sampler = (async () => {
      while (!stop) {
        for (const t of tenants) {
          const c = await store.getCredits(t.tenantId);
          if (c && c.balance - c.reserved + (refunded.get(t.tenantId) ?? 0n) < 0n) violations.push(`${t.tenantId} available ${c.balance - c.reserved}`);
          const k = await store.getKeySpend(t.tenantId, t.limited.id);
          if (k.spent + k.held > t.limited.micros) violations.push(`${t.limited.id} ${k.spent}+${k.held}`);
        }
      }
    })();

    const outcomes: Outcome[] = [];
    const side: Promise<unknown>[] = [];
    let next = 0;
    const worker = async () => {
      while (next < REQUESTS) {
        const n = next++;
        // Tenants 0 and 1 live on auto top-up (threshold 1, amount 1 USD): every crossing charges their card.
        if (n % 150 === 75) side.push(topUp(pick(tenants.slice(2)), 1 + rnd(5)));
        if (n % 400 === 200) refundSome();
        if (n % 300 === 150) b.stripe.redeliver(b.stripe.events.slice(-10), { concurrent: true, order: 'shuffle' });
        if (n % 500 === 250) side.push(dyingWorker(n));
        if (n % 100 === 50) side.push(b.t.drain());
        outcomes.push(await request(pick(tenants)));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await Promise.all(side);
    await b.stripe.idle();
    let state = '';
    await waitFor('in-flight holds settled and auto top-ups done', async () => {
      const held = await Promise.all(tenants.map(async (t) => (await store.listHolds(t.tenantId)).size));
      const open = await b.t.prisma.autoTopupAttempt.findMany({ where: { status: 'pending', tenantId: { in: tenants.map((t) => t.tenantId) } } });
      state = `holds ${held.join(',')}, pending auto top-ups ${open.map((a) => `${a.tenantId}:${a.crossingSeq}`).join(',')}`;
      return held.every((h) => h === 0) && open.length === 0;
    }, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${state}`);
    });
    stop = true;
    await sampler;
    await b.stripe.idle();

    // The dead workers' batches go to a survivor, then everything left is drained.
    const survivor = new UsageStream(redis, new RedisKeys(b.t.config.REDIS_PREFIX), { consumer: 'survivor' });
    const writer = b.t.app.get(UsageWriter);
    for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
      const claimed = await survivor.claimStale(bucket, 0, 500);
      if (claimed.events.length) await writer.write(bucket, claimed);
    }
    const streams = b.t.app.get(UsageStream);
    await waitFor('every usage event in the ledger', async () => {
      await b.t.drain();
      return (await Promise.all(tenants.map((t) => streams.unwrittenUsageOf(t.tenantId)))).every((u) => u === 0n);
    }, 30_000);

    expect(violations).toEqual([]);
    for (const t of tenants) {
      const sum = await ledgerSum(b.t, t.tenantId);
      const redisCredits = (await store.getCredits(t.tenantId))!;
      const v1 = ((await (await fetch(`${b.t.url}/v1/credits`, { headers: { authorization: `Bearer ${t.keys[0]}` } })).json()) as { data: { balance: number; reserved: number; total_credits: number; total_usage: number } }).data;
      const totals = await b.t.prisma.ledgerEntry.groupBy({ by: ['kind'], where: { tenantId: t.tenantId }, _sum: { amountMicros: true } });
      const usage = -totals.filter((g) => g.kind === 'usage' || g.kind === 'byok_fee').reduce((a, g) => a + (g._sum.amountMicros ?? 0n), 0n);
      expect({ tenant: t.tenantId, redis: redisCredits.balance, v1: v1.balance, reserved: redisCredits.reserved }).toEqual({ tenant: t.tenantId, redis: sum, v1: Number(sum) / 1e6, reserved: 0n });
      expect(v1.total_usage).toBe(Number(usage) / 1e6);
      expect(v1.total_credits).toBe(Number(sum + usage) / 1e6);
      expect(sum + (refunded.get(t.tenantId) ?? 0n) >= 0n).toBe(true);
      const keySpend = (await b.t.prisma.requestLog.findMany({ where: { apiKeyId: t.limited.id } })).reduce((a, l) => a + l.costMicros, 0n);
      expect(keySpend <= t.limited.micros).toBe(true);
    }

    // Every charge a client was told is the charge in the ledger; nothing else was charged.
    const rows = await b.t.prisma.ledgerEntry.findMany({ where: { tenantId: { in: tenants.map((t) => t.tenantId) }, kind: 'usage' } });
    const charged = new Map(rows.map((r) => [r.requestId!, -r.amountMicros]));
    for (const o of outcomes) {
      if (o.costMicros !== undefined) expect([o.id, charged.get(o.id) ?? 0n]).toEqual([o.id, o.costMicros]);
      if (o.status !== 200 && o.status !== 499 && o.status !== 502) expect([o.id, charged.has(o.id)]).toEqual([o.id, false]);
    }
    const logs = await b.t.prisma.requestLog.findMany({ where: { requestId: { in: [...charged.keys()] } }, select: { requestId: true, costMicros: true } });
    expect(logs.length).toBe(charged.size);
    for (const l of logs) expect(charged.get(l.requestId)).toBe(l.costMicros);

    // Money in: one credit per succeeded payment intent, one debit per refund, as Stripe has them.
    const ours = new Set(tenants.map((t) => t.tenantId));
    const intents = b.stripe.paymentIntents().filter((pi) => pi.status === 'succeeded' && ours.has(pi.metadata.tenant_id));
    const topups = await b.t.prisma.ledgerEntry.findMany({ where: { tenantId: { in: [...ours] }, kind: 'topup' } });
    expect(topups.length).toBe(intents.length);
    expect(topups.reduce((a, e) => a + e.amountMicros, 0n)).toBe(intents.reduce((a, pi) => a + BigInt(pi.amount_received) * 10_000n, 0n));
    const refunds = [...b.stripe.state.refunds.values()].filter((r) => ours.has(b.stripe.state.paymentIntents.get(r.payment_intent)!.metadata.tenant_id));
    const refundRows = await b.t.prisma.ledgerEntry.findMany({ where: { tenantId: { in: [...ours] }, kind: 'refund' } });
    expect(refundRows.map((r) => r.idempotencyKey).sort()).toEqual(refunds.map((r) => `refund:${r.id}`).sort());

    // Nothing to repair, and nothing was ever repaired by the reconciliations that ran all along.
    const report = await b.t.app.get(ReconciliationService).run();
    expect(report).toMatchObject({ repaired: 0, pending: 0, rebuilt: 0 });
    expect(forced).not.toHaveBeenCalled();

    const statuses: Record<string, number> = {};
    for (const o of outcomes) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
    console.log(
      `chaos: ${outcomes.length} requests in ${Date.now() - started} ms, statuses ${JSON.stringify(statuses)}, ` +
        `${rows.length} usage rows, ${topups.length} top-ups (${topups.filter((e) => e.idempotencyKey.startsWith('autotopup:')).length} auto), ` +
        `${refundRows.length} refunds, ${b.stripe.deliveries.length} webhook deliveries, ${report.tenants} tenants reconciled, 0 repairs`,
    );
  }, 240_000);
  it('after Redis loses balances, then all its data, under traffic: ledger == Redis == /v1/credits once recovered', async () => {
    const store = b.t.app.get(CreditStore);
    const keys = new RedisKeys(b.t.config.REDIS_PREFIX);
    const tenants: Tenant[] = [];
    for (let i = 0; i < 4; i++) {
      const s = await b.t.signup();
      expect((await b.t.grant(s.tenantId, 3)).status).toBe(201);
      tenants.push({ tenantId: s.tenantId, token: s.token, keys: [s.apiKey], limited: { id: '', micros: 0n } });
    }
    const statuses: Record<number, number> = {};
    const faults: Promise<unknown>[] = [];
    let next = 0;
    const worker = async () => {
      while (next < 900) {
        const n = next++;
        if (n === 150 || n === 250) faults.push(redis.del(keys.balance(pick(tenants).tenantId)));
        if (n === 400) {
          // Everything under the prefix: balances, holds, usage streams, key statuses, BullMQ.
          faults.push(flushPrefix().then(() => b.t.app.get(RedisRecovery).check()));
        }
        const o = await request(pick(tenants));
        statuses[o.status] = (statuses[o.status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 30 }, worker));
    await Promise.all(faults);
    await b.t.app.get(RedisRecovery).check();
    const streams = b.t.app.get(UsageStream);
    // What is still open, per tenant, said if the wait times out (a flake seen once in CI).
    let state = '';
    await waitFor('holds settled and usage written', async () => {
      await b.t.drain();
      const credits = await Promise.all(tenants.map((t) => store.getCredits(t.tenantId)));
      const unwritten = await Promise.all(tenants.map((t) => streams.unwrittenUsageOf(t.tenantId)));
      state = tenants.map((t, i) => `${t.tenantId}: reserved ${credits[i]?.reserved ?? 'no balance'}, unwritten ${unwritten[i]}`).join('; ');
      return credits.every((c) => c?.reserved === 0n) && unwritten.every((u) => u === 0n);
    }, 90_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${state}`);
    });
    const report = await b.t.app.get(ReconciliationService).run();
    for (const t of tenants) {
      const sum = await ledgerSum(b.t, t.tenantId);
      const v1 = ((await (await fetch(`${b.t.url}/v1/credits`, { headers: { authorization: `Bearer ${t.keys[0]}` } })).json()) as { data: { balance: number } }).data;
      expect({ tenant: t.tenantId, redis: (await store.getCredits(t.tenantId))!.balance, v1: v1.balance }).toEqual({ tenant: t.tenantId, redis: sum, v1: Number(sum) / 1e6 });
    }
    expect(statuses[200]).toBeGreaterThan(100);
    expect(Object.keys(statuses).every((s) => ['200', '400', '401', '402', '429', '499', '502', '503'].includes(s))).toBe(true);
    console.log(`chaos with Redis loss: statuses ${JSON.stringify(statuses)}, reconciliation after recovery: ${report.repaired} repaired, ${report.rebuilt} rebuilt`);
  }, 200_000);
});
