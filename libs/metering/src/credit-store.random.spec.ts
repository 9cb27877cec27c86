import { randomInt } from 'node:crypto';
import { CreditStore } from './credit-store';
import type { ReserveResult } from './credit-store.types';
import { bucketOf } from './redis-keys';
import { UsageStream } from './usage-stream';
import { creditsOf, openTenant, T0, type TenantFixture } from '../test/credit-fixtures';
import { RedisTestEnv, uid } from '../test/redis-test-env';

interface Hold {
  tenantId: string;
  keyId: string;
  amount: bigint;
  expiresAt: number;
}

interface TenantModel extends TenantFixture {
  keys: string[];
  bal: bigint;
  cred: bigint;
  used: bigint;
  seq: bigint;
  /** Ledger entries 1..N as Postgres would hold them; pushes send windows of it. */
  ledger: bigint[];
  /** Debits beyond their hold and negative ledger entries: the only ways below -overdraft. */
  slack: bigint;
  settledCount: number;
  spend: Map<string, { pid: string; spent: bigint }>;
}

const OVERDRAFT = 10_000n;
const BATCHES = 160;

/**
 * A few thousand mixed operations, issued in concurrent batches over 6 connections, checked
 * after every batch against a model driven by the scripts' own answers: conservation
 * (bal == credits - used == initial + ledger - charges), held == Σ open holds (per tenant and per
 * key), exactly-once settles and ledger entries, one stream event per settle, and sweeps that
 * release exactly the holds whose expiry passed.
 */
describe('CreditStore randomized conservation (real Redis)', () => {
  const env = new RedisTestEnv();
  const stores = [env.redis, ...Array.from({ length: 5 }, () => env.client())].map((r) => new CreditStore(r, env.keys));
  const store = stores[0];
  const usage = new UsageStream(env.redis, env.keys, { consumer: 'random-spec' });

  afterAll(() => env.close());

  it('keeps the books balanced through thousands of mixed operations', async () => {
    const tenants: TenantModel[] = [];
    for (let i = 0; i < 3; i++) {
      const start = BigInt(randomInt(100_000, 600_000));
      const t = await openTenant(store, start);
      const extraKey = uid('key');
      await store.setKeyStatus(t.tenantId, extraKey, 'active');
      tenants.push({
        ...t,
        keys: [t.keyId, extraKey],
        bal: start,
        cred: start,
        used: 0n,
        seq: 0n,
        ledger: Array.from({ length: 400 }, () => BigInt(randomInt(0, 10) === 0 ? -randomInt(1, 50_000) : randomInt(1, 300_000))),
        slack: 0n,
        settledCount: 0,
        spend: new Map(),
      });
    }
    const holds = new Map<string, Hold>();
    const settled = new Set<string>();
    let now = T0;
    let ops = 0;
    const tally: Record<string, number> = {};
    const count = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);

    for (let batch = 0; batch < BATCHES; batch++) {
      now += randomInt(0, 4_000);
      const period = `p${Math.floor(batch / 40)}`;
      if (batch % 8 === 7) {
        await sweepAndCheck(now);
      } else {
        const used = new Set<string>();
        const pending: Promise<void>[] = [];
        for (let i = 0; i < 20; i++) pending.push(randomOp(i, period, used));
        await Promise.all(pending);
      }
      await checkInvariants();
    }
    expect(ops).toBeGreaterThan(2_500);
    for (const k of ['reserve:ok', 'reserve:insufficient', 'settle:settled', 'settle:already', 'ledger', 'sweep:released', 'adjust:ok', 'reserve:key_limit', 'renew:renewed']) {
      expect(tally[k] ?? 0).toBeGreaterThan(0);
    }

    function randomOp(i: number, period: string, used: Set<string>): Promise<void> {
      const s = stores[i % stores.length];
      const t = tenants[randomInt(0, tenants.length)];
      const keyId = t.keys[randomInt(0, t.keys.length)];
      const limit = randomInt(0, 3) === 0 ? { limitMicros: BigInt(randomInt(50_000, 400_000)), periodId: period } : null;
      const mine = [...holds.entries()].filter(([r, h]) => h.tenantId === t.tenantId && !used.has(r));
      const roll = randomInt(0, 100);
      ops += 1;
      if (roll < 40 || mine.length === 0) {
        const requestId = uid('gen');
        used.add(requestId);
        const ttl = randomInt(1_000, 20_000);
        return s
          .reserve({ tenantId: t.tenantId, keyId, requestId, amountMicros: BigInt(randomInt(0, 150_000)), overdraftMicros: OVERDRAFT, holdTtlMs: ttl, nowMs: now, tokensEstimate: 10, keyCreditLimit: limit })
          .then((r) => onReserve(t, keyId, requestId, r, now + ttl, limit?.periodId));
      }
      const [requestId, hold] = mine[randomInt(0, mine.length)];
      used.add(requestId);
      if (roll < 70) {
        // Mostly within the hold; sometimes beyond it (a provider ignoring max_tokens); sometimes twice.
        const within = randomInt(0, 10) !== 0;
        const cost = within ? BigInt(randomInt(0, Number(hold.amount) + 1)) : hold.amount + BigInt(randomInt(1, 20_000));
        const fee = within || cost === 0n ? 0n : BigInt(randomInt(0, 100));
        const periodId = randomInt(0, 2) === 0 ? period : null;
        const input = { tenantId: t.tenantId, keyId: hold.keyId, requestId, costMicros: cost, byokFeeMicros: fee, keyPeriodId: periodId, event: { status: 'ok' } };
        const twice = randomInt(0, 5) === 0;
        return Promise.all([s.settle(input), twice ? stores[(i + 1) % stores.length].settle(input) : null]).then((rs) => {
          for (const r of rs) {
            if (!r) continue;
            count(`settle:${r.kind}`);
            if (r.kind === 'already') continue;
            const open = holds.get(requestId);
            expect(r.releasedMicros).toBe(open?.amount ?? 0n);
            holds.delete(requestId);
            expect(settled.has(requestId)).toBe(false);
            settled.add(requestId);
            const total = cost + fee;
            t.bal -= total;
            t.used += total;
            t.settledCount += 1;
            if (total > (open?.amount ?? 0n)) t.slack += total - (open?.amount ?? 0n);
            if (periodId) addSpend(t, hold.keyId, periodId, cost, false);
          }
        });
      }
      if (roll < 80) {
        const ttl = randomInt(1_000, 20_000);
        return s.renew(t.tenantId, requestId, ttl, now).then((r) => {
          count(`renew:${r.kind}`);
          expect(r.kind).toBe('renewed');
          hold.expiresAt = Math.max(hold.expiresAt, now + ttl);
          if (r.kind === 'renewed') expect(r.expiresAtMs).toBe(hold.expiresAt);
        });
      }
      if (roll < 90) {
        const ttl = randomInt(1_000, 20_000);
        const amount = BigInt(randomInt(0, 200_000));
        return s
          .adjustHold({ tenantId: t.tenantId, keyId: hold.keyId, requestId, amountMicros: amount, overdraftMicros: OVERDRAFT, holdTtlMs: ttl, nowMs: now, keyCreditLimit: limit })
          .then((r) => {
            count(`adjust:${r.kind}`);
            if (r.kind !== 'ok') return;
            expect(r.holdMicros).toBe(amount);
            hold.amount = amount;
            hold.expiresAt = Math.max(hold.expiresAt, now + ttl);
            if (limit) addSpend(t, hold.keyId, limit.periodId, 0n, true);
          });
      }
      // A credit-sync push: a window starting at or below the next seq (as the writer sends).
      const from = randomInt(Math.max(0, Number(t.seq) - 5), Number(t.seq) + 1);
      const to = Math.min(t.ledger.length, from + randomInt(1, 6));
      const entries = t.ledger.slice(from, to).map((amountMicros, j) => ({ seq: BigInt(from + j + 1), amountMicros }));
      return s.applyLedger(t.tenantId, entries).then((r) => {
        count('ledger');
        expect(r.kind).toBe('applied');
        const target = BigInt(to);
        while (t.seq < target) {
          const amount = t.ledger[Number(t.seq)];
          t.seq += 1n;
          t.bal += amount;
          t.cred += amount;
          if (amount < 0n) t.slack -= amount;
        }
      });
    }

    function onReserve(t: TenantModel, keyId: string, requestId: string, r: ReserveResult, expiresAt: number, periodId?: string): void {
      count(`reserve:${r.kind}`);
      if (r.kind !== 'ok') return;
      expect(r.replayed).toBe(false);
      holds.set(requestId, { tenantId: t.tenantId, keyId, amount: r.holdMicros, expiresAt });
      if (periodId) addSpend(t, keyId, periodId, 0n, true);
    }

    /** The key's spend resets to 0 on the first write of a new period, whoever writes it. */
    function addSpend(t: TenantModel, keyId: string, periodId: string, amount: bigint, reserve: boolean): void {
      const cur = t.spend.get(keyId);
      if (!cur || cur.pid !== periodId) t.spend.set(keyId, { pid: periodId, spent: amount });
      else if (!reserve) cur.spent += amount;
    }

    async function sweepAndCheck(at: number): Promise<void> {
      const buckets = [...new Set(tenants.map((t) => bucketOf(t.tenantId)))];
      const released = (await Promise.all(buckets.map((b) => store.sweepExpiredHolds(b, at, 10_000)))).flat();
      const expected = [...holds.entries()].filter(([, h]) => h.expiresAt <= at).map(([r]) => r).sort();
      expect(released.map((h) => h.requestId).sort()).toEqual(expected);
      for (const h of released) {
        expect(h.amountMicros).toBe(holds.get(h.requestId)?.amount);
        holds.delete(h.requestId);
        count('sweep:released');
      }
      ops += 1;
    }

    async function checkInvariants(): Promise<void> {
      let events = 0;
      for (const t of tenants) {
        const open = [...holds.values()].filter((h) => h.tenantId === t.tenantId);
        const held = open.reduce((s, h) => s + h.amount, 0n);
        const c = await creditsOf(store, t.tenantId);
        expect(c).toEqual({ balance: t.bal, credits: t.cred, usage: t.used, reserved: held, seq: t.seq });
        expect(c.balance).toBe(c.credits - c.usage);
        // I2, widened only by what the rules allow to go beyond it.
        expect(c.balance - c.reserved + OVERDRAFT + t.slack).toBeGreaterThanOrEqual(0n);
        const redisHolds = await store.listHolds(t.tenantId);
        expect(redisHolds.size).toBe(open.length);
        for (const keyId of t.keys) {
          const ks = await store.getKeySpend(t.tenantId, keyId);
          expect(ks.held).toBe(open.filter((h) => h.keyId === keyId).reduce((s, h) => s + h.amount, 0n));
          const m = t.spend.get(keyId);
          if (m) expect({ pid: ks.periodId, spent: ks.spent }).toEqual(m);
        }
        expect(await usage.unwrittenUsageOf(t.tenantId)).toBe(t.used);
        events += t.settledCount;
      }
      const streams = [...new Set(tenants.map((t) => env.keys.usageStreamOf(t.tenantId)))];
      const lens = await Promise.all(streams.map((k) => env.redis.xlen(k)));
      expect(lens.reduce((a, b) => a + b, 0)).toBe(events);
    }
  }, 120_000);
});
