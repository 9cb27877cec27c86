import { randomInt } from 'node:crypto';
import { CreditStore } from './credit-store';
import { creditsOf, openTenant, reserveInput, streamEntriesOf, USD } from '../test/credit-fixtures';
import { RedisTestEnv } from '../test/redis-test-env';

/** Several connections, as several gateway instances would have: Redis alone orders the scripts. */
describe('CreditStore under concurrency (real Redis, 6 connections)', () => {
  const env = new RedisTestEnv();
  const stores = [env.redis, ...Array.from({ length: 5 }, () => env.client())].map((r) => new CreditStore(r, env.keys));
  const store = stores[0];
  const any = (i: number) => stores[i % stores.length];

  afterAll(() => env.close());

  it('I1/I2: balance $1, 50 concurrent reserves of $0.10 -> exactly 10 succeed', async () => {
    const t = await openTenant(store, USD);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => any(i).reserve(reserveInput(t, 100_000n))),
    );
    expect(results.filter((r) => r.kind === 'ok')).toHaveLength(10);
    expect(results.filter((r) => r.kind === 'insufficient')).toHaveLength(40);
    expect(await store.getCredits(t.tenantId)).toMatchObject({ balance: USD, reserved: USD });
  });

  it('I4: the same settle racing on every connection debits once and writes one event', async () => {
    const t = await openTenant(store, USD);
    const r = reserveInput(t, 300_000n);
    await store.reserve(r);
    const settle = { ...t, requestId: r.requestId, costMicros: 250_000n, byokFeeMicros: 0n, event: { status: 'ok' } };
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => any(i).settle(settle)));
    expect(results.filter((s) => s.kind === 'settled')).toHaveLength(1);
    expect(await store.getCredits(t.tenantId)).toMatchObject({ balance: 750_000n, usage: 250_000n, reserved: 0n });
    expect(await streamEntriesOf(env.redis, env.keys, t.tenantId)).toHaveLength(1);
  });

  it('I4: the same reserve racing holds once', async () => {
    const t = await openTenant(store, USD);
    const r = reserveInput(t, 400_000n);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => any(i).reserve(r)));
    expect(results.every((x) => x.kind === 'ok')).toBe(true);
    expect(results.filter((x) => x.kind === 'ok' && !x.replayed)).toHaveLength(1);
    expect(await store.getCredits(t.tenantId)).toMatchObject({ reserved: 400_000n });
  });

  it('I4: ledger pushes applied twice and concurrently move the balance once', async () => {
    const t = await openTenant(store, 0n);
    const entries = Array.from({ length: 20 }, (_, i) => ({ seq: BigInt(i + 1), amountMicros: BigInt((i + 1) * 1000) }));
    // Overlapping windows of the same entries, as two credit-sync workers racing would push them.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => any(i).applyLedger(t.tenantId, entries.slice(i % 7, (i % 7) + 14))),
    );
    await Promise.all([store.applyLedger(t.tenantId, entries), any(1).applyLedger(t.tenantId, entries)]);
    const total = entries.reduce((s, e) => s + e.amountMicros, 0n);
    expect(await store.getCredits(t.tenantId)).toMatchObject({ balance: total, credits: total, seq: 20n });
  });

  it('I2: with costs within their holds, bal - held never goes below -overdraft', async () => {
    const overdraft = 50_000n;
    const t = await openTenant(store, 500_000n);
    const open: { requestId: string; amount: bigint }[] = [];
    let lowest = 0n;
    let refused = 0;
    const observe = async () => {
      const c = await creditsOf(store, t.tenantId);
      const available = c.balance - c.reserved + overdraft;
      if (available < lowest) lowest = available;
    };
    for (let round = 0; round < 30; round++) {
      const inputs = Array.from({ length: 10 }, () =>
        reserveInput(t, BigInt(randomInt(1, 80_000)), { overdraftMicros: overdraft }),
      );
      const settles = open.splice(0, randomInt(0, open.length + 1)).map((h, i) =>
        any(i + 3).settle({ ...t, requestId: h.requestId, costMicros: BigInt(randomInt(0, Number(h.amount) + 1)), byokFeeMicros: 0n, event: {} }),
      );
      const [rs] = await Promise.all([Promise.all(inputs.map((x, i) => any(i).reserve(x))), Promise.all(settles), observe()]);
      rs.forEach((r, i) => {
        if (r.kind === 'ok') open.push({ requestId: inputs[i].requestId, amount: r.holdMicros });
        else if (r.kind === 'insufficient') refused += 1;
      });
      await observe();
      // Top up a little now and then so that reserves keep succeeding.
      if (round % 10 === 9) await store.applyLedger(t.tenantId, [{ seq: BigInt(round + 1), amountMicros: 200_000n }]);
    }
    expect(refused).toBeGreaterThan(0);
    expect(lowest).toBeGreaterThanOrEqual(0n);
    const c = await creditsOf(store, t.tenantId);
    expect(c.balance).toBeGreaterThanOrEqual(-overdraft);
    expect(c.balance).toBe(c.credits - c.usage);
  });
});
