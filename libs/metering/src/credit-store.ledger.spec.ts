import { CreditStore } from './credit-store';
import { LuaScript } from './lua-script';
import { openTenant, reserveInput, USD } from '../test/credit-fixtures';
import { RedisTestEnv, uid } from '../test/redis-test-env';

describe('CreditStore: ledger pushes, rebuild and repair (real Redis)', () => {
  const env = new RedisTestEnv();
  const store = new CreditStore(env.redis, env.keys);

  afterAll(() => env.close());

  describe('applyLedger', () => {
    it('applies each seq once, in order, and returns the new seq', async () => {
      const t = await openTenant(store, 0n);
      const entries = [
        { seq: 2n, amountMicros: 5n * USD },
        { seq: 1n, amountMicros: 10n * USD },
      ];
      expect(await store.applyLedger(t.tenantId, entries)).toEqual({ kind: 'applied', seq: 2n, appliedCount: 2, balanceMicros: 15n * USD });
      expect(await store.applyLedger(t.tenantId, entries)).toEqual({ kind: 'applied', seq: 2n, appliedCount: 0, balanceMicros: 15n * USD });
      // A refund (negative) reduces credits too, so bal == cred - used keeps holding.
      const r = await store.applyLedger(t.tenantId, [...entries, { seq: 3n, amountMicros: -2n * USD }]);
      expect(r).toEqual({ kind: 'applied', seq: 3n, appliedCount: 1, balanceMicros: 13n * USD });
      expect(await store.getCredits(t.tenantId)).toEqual({ balance: 13n * USD, credits: 13n * USD, usage: 0n, reserved: 0n, seq: 3n });
      expect(await store.applyLedger(t.tenantId, [])).toMatchObject({ kind: 'applied', seq: 3n, appliedCount: 0 });
    });

    it('skips entries at or below the seq the rebuild already included', async () => {
      const t = await openTenant(store, 7n, 10n);
      const r = await store.applyLedger(t.tenantId, [
        { seq: 9n, amountMicros: 100n },
        { seq: 10n, amountMicros: 100n },
        { seq: 12n, amountMicros: 1n },
      ]);
      expect(r).toEqual({ kind: 'applied', seq: 12n, appliedCount: 1, balanceMicros: 8n });
    });

    it('never creates a missing balance', async () => {
      const tenantId = uid('ten');
      expect(await store.applyLedger(tenantId, [{ seq: 1n, amountMicros: USD }])).toEqual({ kind: 'balance_missing' });
      expect(await store.getCredits(tenantId)).toBeNull();
    });

    it('refuses a seq below 1', async () => {
      const t = await openTenant(store, 0n);
      await expect(store.applyLedger(t.tenantId, [{ seq: 0n, amountMicros: 1n }])).rejects.toThrow(RangeError);
    });
  });

  describe('initBalance and forceBalance', () => {
    it('creates once, atomically, and recomputes held from surviving holds', async () => {
      const t = await openTenant(store, USD);
      const r = reserveInput(t, 250n);
      await store.reserve(r);
      await env.redis.del(env.keys.balance(t.tenantId));
      const snap = { balanceMicros: 2n * USD, creditsMicros: 3n * USD, usageMicros: USD, seq: 4n };
      const racers = await Promise.all([1, 2, 3, 4].map(() => store.initBalance(t.tenantId, snap)));
      expect(racers.filter(Boolean)).toHaveLength(1);
      expect(await store.getCredits(t.tenantId)).toEqual({ balance: 2n * USD, credits: 3n * USD, usage: USD, reserved: 250n, seq: 4n });
      expect(await store.initBalance(t.tenantId, { ...snap, balanceMicros: 0n, creditsMicros: 0n, usageMicros: 0n })).toBe(false);
      expect(await store.getCredits(t.tenantId)).toMatchObject({ balance: 2n * USD });
    });

    it('creates only if no usage event was added since the rebuilder last looked, when asked', async () => {
      const t = await openTenant(store, USD);
      const r = reserveInput(t, 300n);
      await store.reserve(r);
      await env.redis.del(env.keys.balance(t.tenantId));
      const lastId = async () => ((await env.redis.xrevrange(env.keys.usageStreamOf(t.tenantId), '+', '-', 'COUNT', 1))[0]?.[0] ?? '-');
      const seen = await lastId();
      // A settle while the balance is missing: its event is written, no debit.
      await store.settle({ ...t, requestId: r.requestId, costMicros: 200n, byokFeeMicros: 0n, event: {} });
      const snap = { balanceMicros: USD, creditsMicros: USD, usageMicros: 0n, seq: 0n };
      expect(await store.initBalance(t.tenantId, snap, seen)).toBe('stream_moved');
      expect(await store.getCredits(t.tenantId)).toBeNull();
      expect(await store.initBalance(t.tenantId, { ...snap, balanceMicros: USD - 200n, usageMicros: 200n }, await lastId())).toBe(true);
      expect(await store.getCredits(t.tenantId)).toMatchObject({ balance: USD - 200n });
    });

    it('refuses a snapshot that does not balance', async () => {
      await expect(
        store.initBalance(uid('ten'), { balanceMicros: 5n, creditsMicros: 5n, usageMicros: 1n, seq: 0n }),
      ).rejects.toThrow(RangeError);
    });

    it('force overwrites, unless a ledger entry was applied since the reconciler read', async () => {
      const t = await openTenant(store, USD, 1n);
      const snap = { balanceMicros: 900n, creditsMicros: 1000n, usageMicros: 100n, seq: 1n };
      await store.applyLedger(t.tenantId, [{ seq: 2n, amountMicros: 5n }]);
      expect(await store.forceBalance(t.tenantId, snap, 1n)).toEqual({ kind: 'seq_mismatch', seq: 2n });
      expect(await store.getCredits(t.tenantId)).toMatchObject({ balance: USD + 5n });
      expect(await store.forceBalance(t.tenantId, { ...snap, seq: 2n }, 2n)).toEqual({ kind: 'forced', heldMicros: 0n });
      expect(await store.getCredits(t.tenantId)).toEqual({ balance: 900n, credits: 1000n, usage: 100n, reserved: 0n, seq: 2n });
      const other = uid('ten');
      expect(await store.forceBalance(other, snap, 1n)).toEqual({ kind: 'seq_mismatch', seq: null });
      expect(await store.forceBalance(other, snap)).toEqual({ kind: 'forced', heldMicros: 0n });
    });

    it('force refuses when a settle changed the balance after the reconciler read it', async () => {
      const t = await openTenant(store, USD, 1n);
      const read = (await store.getCredits(t.tenantId))!;
      const r = reserveInput(t, 300n);
      await store.reserve(r);
      await store.settle({ ...t, requestId: r.requestId, costMicros: 200n, byokFeeMicros: 0n, event: {} });
      const snap = { balanceMicros: USD, creditsMicros: USD, usageMicros: 0n, seq: 1n };
      expect(await store.forceBalance(t.tenantId, snap, 1n, { balanceMicros: read.balance, usageMicros: read.usage })).toEqual({ kind: 'balance_moved' });
      expect(await store.getCredits(t.tenantId)).toMatchObject({ balance: USD - 200n, usage: 200n });
      const now = (await store.getCredits(t.tenantId))!;
      expect((await store.forceBalance(t.tenantId, { balanceMicros: USD - 200n, creditsMicros: USD, usageMicros: 200n, seq: 1n }, 1n, { balanceMicros: now.balance, usageMicros: now.usage })).kind).toBe('forced');
    });
  });

  describe('script loading', () => {
    it('falls back to EVAL when the server does not know the script (NOSCRIPT)', async () => {
      const script = new LuaScript('probe', `-- ${uid('probe')}\nreturn {'pong', ARGV[1]}`);
      expect(await env.redis.script('EXISTS', script.sha)).toEqual([0]);
      expect(await script.run(env.redis, [], ['x'])).toEqual(['pong', 'x']);
      expect(await env.redis.script('EXISTS', script.sha)).toEqual([1]);
      expect(await script.run(env.redis, [], ['y'])).toEqual(['pong', 'y']);
    });

    it('refuses a client with keyPrefix (script KEYS would be prefixed twice)', () => {
      const prefixed = env.client();
      prefixed.options.keyPrefix = 'x:';
      expect(() => new CreditStore(prefixed, env.keys)).toThrow(/keyPrefix/);
    });
  });
});
