import { CreditStore } from './credit-store';
import { bucketOf } from './redis-keys';
import { openTenant, reserveInput, streamEntriesOf, T0, USD } from '../test/credit-fixtures';
import { RedisTestEnv, uid } from '../test/redis-test-env';

describe('CreditStore: reserve, settle, renew, sweep (real Redis)', () => {
  const env = new RedisTestEnv();
  const store = new CreditStore(env.redis, env.keys);

  afterAll(() => env.close());

  const streamLen = async (tenantId: string) => (await streamEntriesOf(env.redis, env.keys, tenantId)).length;

  describe('reserve', () => {
    it('holds the amount and is idempotent per request id', async () => {
      const t = await openTenant(store, USD);
      const input = reserveInput(t, 300_000n);
      const first = await store.reserve(input);
      expect(first).toEqual({ kind: 'ok', holdMicros: 300_000n, availableMicros: 700_000n, replayed: false, expiresAtMs: T0 + 120_000 });
      const again = await store.reserve({ ...input, amountMicros: 999_999n, nowMs: T0 + 5 });
      expect(again).toMatchObject({ kind: 'ok', holdMicros: 300_000n, availableMicros: 700_000n, replayed: true });
      expect(await store.getCredits(t.tenantId)).toMatchObject({ balance: USD, reserved: 300_000n });
      expect((await store.listHolds(t.tenantId)).get(input.requestId)).toEqual({ keyId: t.keyId, amountMicros: 300_000n });
    });

    it('answers balance_missing (never zero, never unlimited) and writes nothing', async () => {
      const tenantId = uid('ten');
      const keyId = uid('key');
      await store.setKeyStatus(tenantId, keyId, 'active');
      const r = await store.reserve(reserveInput({ tenantId, keyId }, 1n));
      expect(r).toEqual({ kind: 'balance_missing' });
      expect(await store.getCredits(tenantId)).toBeNull();
      expect((await store.listHolds(tenantId)).size).toBe(0);
      expect(await env.redis.exists(env.keys.balance(tenantId))).toBe(0);
    });

    it('refuses a missing or revoked key within the same round trip', async () => {
      const t = await openTenant(store, USD);
      expect(await store.reserve(reserveInput({ ...t, keyId: uid('key') }, 1n))).toEqual({ kind: 'key_inactive', status: null });
      await store.setKeyStatus(t.tenantId, t.keyId, 'revoked');
      expect(await store.reserve(reserveInput(t, 1n))).toEqual({ kind: 'key_inactive', status: 'revoked' });
      await store.deleteKeyStatus(t.tenantId, t.keyId);
      expect(await store.getKeyStatus(t.tenantId, t.keyId)).toBeNull();
      expect(await store.getCredits(t.tenantId)).toMatchObject({ reserved: 0n });
    });

    it('refuses what the balance cannot cover and says whether holds are in flight', async () => {
      const t = await openTenant(store, USD);
      expect(await store.reserve(reserveInput(t, USD + 1n))).toEqual({
        kind: 'insufficient',
        availableMicros: USD,
        inFlightHolds: false,
      });
      expect((await store.reserve(reserveInput(t, 600_000n))).kind).toBe('ok');
      expect(await store.reserve(reserveInput(t, 600_000n))).toEqual({
        kind: 'insufficient',
        availableMicros: 400_000n,
        inFlightHolds: true,
      });
      expect(await store.reserve(reserveInput(t, 600_000n, { overdraftMicros: 200_000n }))).toMatchObject({
        kind: 'ok',
        availableMicros: 0n,
      });
    });

    it('rate-limits per key (rpm) with the earliest Retry-After, not counting refused requests', async () => {
      const t = await openTenant(store, USD);
      const W = 60_000;
      const now = Math.floor(T0 / W) * W + 10_000;
      for (let i = 0; i < 3; i++) expect((await store.reserve(reserveInput(t, 1n, { nowMs: now, rpmLimit: 3 }))).kind).toBe('ok');
      // 3 in the current window: the 4th fits once 1/3 of them has slid out of the last minute.
      expect(await store.reserve(reserveInput(t, 1n, { nowMs: now, rpmLimit: 3 }))).toEqual({
        kind: 'rate_limited',
        limit: 'rpm',
        retryAfterMs: 70_000,
      });
      expect((await store.reserve(reserveInput(t, 1n, { nowMs: now + 69_999, rpmLimit: 3 }))).kind).toBe('rate_limited');
      expect((await store.reserve(reserveInput(t, 1n, { nowMs: now + 70_000, rpmLimit: 3 }))).kind).toBe('ok');
      // A refused request (402) did not use the budget of another key.
      const other = { ...t, keyId: uid('key') };
      await store.setKeyStatus(t.tenantId, other.keyId, 'active');
      expect((await store.reserve(reserveInput(other, 2n * USD, { nowMs: now, rpmLimit: 1 }))).kind).toBe('insufficient');
      expect((await store.reserve(reserveInput(other, 1n, { nowMs: now, rpmLimit: 1 }))).kind).toBe('ok');
    });

    it('rate-limits tokens (tpm), and a request larger than the limit can never pass', async () => {
      const t = await openTenant(store, USD);
      const at = { nowMs: T0, tpmLimit: 1000 };
      expect((await store.reserve(reserveInput(t, 1n, { ...at, tokensEstimate: 600 }))).kind).toBe('ok');
      const second = await store.reserve(reserveInput(t, 1n, { ...at, tokensEstimate: 600 }));
      expect(second).toMatchObject({ kind: 'rate_limited', limit: 'tpm' });
      expect(second.kind === 'rate_limited' && (second.retryAfterMs ?? 0) > 0).toBe(true);
      expect(await store.reserve(reserveInput(t, 1n, { ...at, rpmLimit: 0 }))).toEqual({ kind: 'rate_limited', limit: 'rpm', retryAfterMs: null });
      expect(await store.reserve(reserveInput(t, 1n, { ...at, tokensEstimate: 1001 }))).toEqual({
        kind: 'rate_limited',
        limit: 'tpm',
        retryAfterMs: null,
      });
    });

    it('answers the later of the rpm and tpm waits when both are exceeded: a retry at Retry-After is accepted', async () => {
      const t = await openTenant(store, 10n * USD);
      const start = (Math.floor(T0 / 60_000) + 1) * 60_000;
      const limits = { rpmLimit: 2, tpmLimit: 1000 };
      expect((await store.reserve(reserveInput(t, 1n, { ...limits, nowMs: start + 10_000, tokensEstimate: 900 }))).kind).toBe('ok');
      expect((await store.reserve(reserveInput(t, 1n, { ...limits, nowMs: start + 49_000, tokensEstimate: 50 }))).kind).toBe('ok');
      const now = start + 50_000;
      const refused = await store.reserve(reserveInput(t, 1n, { ...limits, nowMs: now, tokensEstimate: 900 }));
      expect(refused).toMatchObject({ kind: 'rate_limited', limit: 'tpm' });
      const wait = (refused as { retryAfterMs: number }).retryAfterMs;
      expect((await store.reserve(reserveInput(t, 1n, { ...limits, nowMs: now + wait - 1_000, tokensEstimate: 900 }))).kind).toBe('rate_limited');
      expect((await store.reserve(reserveInput(t, 1n, { ...limits, nowMs: now + wait, tokensEstimate: 900 }))).kind).toBe('ok');
    });

    it('enforces the key credit limit with spend and open holds, per period', async () => {
      const t = await openTenant(store, 10n * USD);
      const limit = (periodId: string) => ({ keyCreditLimit: { limitMicros: 100n, periodId } });
      const a = reserveInput(t, 60n, limit('p1'));
      expect((await store.reserve(a)).kind).toBe('ok');
      expect(await store.reserve(reserveInput(t, 50n, limit('p1')))).toEqual({
        kind: 'key_limit',
        limitMicros: 100n,
        spentMicros: 0n,
        heldMicros: 60n,
      });
      await store.settle({ ...t, requestId: a.requestId, costMicros: 30n, byokFeeMicros: 0n, keyPeriodId: 'p1', event: {} });
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toEqual({ periodId: 'p1', spent: 30n, held: 0n });
      const b = reserveInput(t, 50n, limit('p1'));
      expect((await store.reserve(b)).kind).toBe('ok');
      expect(await store.reserve(reserveInput(t, 30n, limit('p1')))).toMatchObject({ kind: 'key_limit', spentMicros: 30n, heldMicros: 50n });
      // New period: spend starts over, the open hold (settled in p2) still counts.
      expect(await store.reserve(reserveInput(t, 51n, limit('p2')))).toMatchObject({ kind: 'key_limit', spentMicros: 0n, heldMicros: 50n });
      expect((await store.reserve(reserveInput(t, 50n, limit('p2')))).kind).toBe('ok');
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toEqual({ periodId: 'p2', spent: 0n, held: 100n });
    });

    it('never takes a key back to an older period: a late clock counts into the current one', async () => {
      const t = await openTenant(store, 10n * USD);
      const limit = (periodId: string) => ({ keyCreditLimit: { limitMicros: 100n, periodId } });
      const a = reserveInput(t, 90n, limit('d2026-11-26'));
      expect((await store.reserve(a)).kind).toBe('ok');
      await store.settle({ ...t, requestId: a.requestId, costMicros: 90n, byokFeeMicros: 0n, keyPeriodId: 'd2026-11-26', event: {} });
      // A gateway whose clock is still on yesterday settles and reserves: today's spend stays.
      const b = reserveInput(t, 5n, limit('d2026-11-26'));
      expect((await store.reserve(b)).kind).toBe('ok');
      await store.settle({ ...t, requestId: b.requestId, costMicros: 5n, byokFeeMicros: 0n, keyPeriodId: 'd2026-11-25', event: {} });
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toEqual({ periodId: 'd2026-11-26', spent: 95n, held: 0n });
      expect(await store.reserve(reserveInput(t, 20n, limit('d2026-11-25')))).toMatchObject({ kind: 'key_limit', spentMicros: 95n });
      // A request reserved under the old limit_reset settles after it changed: counted, no reset.
      const c = reserveInput(t, 5n, limit('d2026-11-26'));
      expect((await store.reserve(c)).kind).toBe('ok');
      await store.settle({ ...t, requestId: c.requestId, costMicros: 2n, byokFeeMicros: 0n, keyPeriodId: 'm2026-11', event: {} });
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toEqual({ periodId: 'd2026-11-26', spent: 97n, held: 0n });
      // A reserve under the new limit_reset starts its period; the next day starts another.
      expect((await store.reserve(reserveInput(t, 50n, limit('m2026-11')))).kind).toBe('ok');
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toMatchObject({ periodId: 'm2026-11', spent: 0n });
    });

    it("keeps holds the key's limit does not count (BYOK fees without include_byok_in_limit) out of its held total, settled, swept or moved", async () => {
      const t = await openTenant(store, 1_000_000n);
      const limit = { limitMicros: 1_000n, periodId: 'p' };
      const fees = [0, 1, 2].map(() => reserveInput(t, 400n, { countsTowardKeyLimit: false }));
      for (const f of fees) expect((await store.reserve(f)).kind).toBe('ok');
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toMatchObject({ held: 0n });
      // 1,200 of fees in flight do not refuse a platform request that fits the 1,000 limit.
      expect((await store.reserve(reserveInput(t, 900n, { keyCreditLimit: limit }))).kind).toBe('ok');
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toMatchObject({ held: 900n });
      await store.settle({ ...t, requestId: fees[0].requestId, costMicros: 0n, byokFeeMicros: 20n, keyPeriodId: 'p', keyLimitIncludesByokFee: false, event: {} });
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toMatchObject({ spent: 0n, held: 900n });
      // A fee hold that falls back to the platform's key is checked at its full new amount.
      const adj = { ...t, requestId: fees[1].requestId, overdraftMicros: 0n, holdTtlMs: 120_000, nowMs: T0 + 1, keyCreditLimit: limit };
      expect(await store.adjustHold({ ...adj, amountMicros: 150n })).toMatchObject({ kind: 'key_limit', heldMicros: 900n });
      expect(await store.adjustHold({ ...adj, amountMicros: 100n })).toMatchObject({ kind: 'ok' });
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toMatchObject({ held: 1_000n });
      // Swept: the counted holds leave the total, the uncounted one takes nothing from it.
      await store.sweepExpiredHolds(bucketOf(t.tenantId), T0 + 10_000_000, 100);
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toMatchObject({ held: 0n });
      expect(await store.getCredits(t.tenantId)).toMatchObject({ reserved: 0n });
    });

    it('refuses amounts Lua cannot hold exactly', async () => {
      const t = await openTenant(store, USD);
      await expect(store.reserve(reserveInput(t, 2n ** 53n))).rejects.toThrow(RangeError);
      await expect(store.reserve(reserveInput(t, -1n))).rejects.toThrow(RangeError);
    });
  });

  describe('settle', () => {
    it('releases, debits, counts usage and appends one event, once', async () => {
      const t = await openTenant(store, USD);
      const r = reserveInput(t, 200_000n);
      await store.reserve(r);
      const settle = { ...t, requestId: r.requestId, costMicros: 120_000n, byokFeeMicros: 5n, event: { status: 'ok', model: 'm' } };
      const first = await store.settle(settle);
      expect(first).toMatchObject({ kind: 'settled', releasedMicros: 200_000n, balanceMicros: USD - 120_005n });
      expect(await store.settle(settle)).toEqual({ kind: 'already' });
      expect(await store.getCredits(t.tenantId)).toEqual({ balance: USD - 120_005n, credits: USD, usage: 120_005n, reserved: 0n, seq: 0n });
      expect(await streamLen(t.tenantId)).toBe(1);
      const [[id, fields]] = await streamEntriesOf(env.redis, env.keys, t.tenantId);
      expect(first.kind === 'settled' && first.streamId).toBe(id);
      expect(fields).toEqual(['requestId', r.requestId, 'tenantId', t.tenantId, 'keyId', t.keyId, 'costMicros', '120000', 'byokFeeMicros', '5', 'event', '{"status":"ok","model":"m"}']);
      const ttl = await env.redis.pttl(env.keys.settled(t.tenantId, r.requestId));
      expect(ttl).toBeGreaterThan(86_000_000);
      expect(await store.reserve(r)).toEqual({ kind: 'already_settled' });
    });

    it('charges beyond the hold (provider ignored max_tokens): the balance dips by the excess only', async () => {
      const t = await openTenant(store, 100n);
      const r = reserveInput(t, 100n);
      await store.reserve(r);
      const s = await store.settle({ ...t, requestId: r.requestId, costMicros: 130n, byokFeeMicros: 0n, event: {} });
      expect(s).toMatchObject({ kind: 'settled', balanceMicros: -30n });
    });

    it('a failed request (cost 0) releases the hold and still writes its event', async () => {
      const t = await openTenant(store, USD);
      const r = reserveInput(t, 500n);
      await store.reserve(r);
      const s = await store.settle({ ...t, requestId: r.requestId, costMicros: 0n, byokFeeMicros: 0n, event: { status: 'upstream_error' } });
      expect(s).toMatchObject({ kind: 'settled', releasedMicros: 500n, balanceMicros: USD });
      expect(await store.getCredits(t.tenantId)).toMatchObject({ balance: USD, usage: 0n, reserved: 0n });
      expect(await streamLen(t.tenantId)).toBe(1);
    });

    it('still charges a request whose hold expired and was swept', async () => {
      const t = await openTenant(store, USD);
      const r = reserveInput(t, 500n, { holdTtlMs: 1000 });
      await store.reserve(r);
      const swept = await store.sweepExpiredHolds(bucketOf(t.tenantId), T0 + 1000, 100);
      expect(swept).toContainEqual({ ...t, requestId: r.requestId, amountMicros: 500n });
      const s = await store.settle({ ...t, requestId: r.requestId, costMicros: 400n, byokFeeMicros: 0n, event: {} });
      expect(s).toMatchObject({ kind: 'settled', releasedMicros: 0n, balanceMicros: USD - 400n });
      expect(await store.getCredits(t.tenantId)).toMatchObject({ reserved: 0n, usage: 400n });
    });

    it('writes the event even when the balance hash is gone (the rebuild counts it)', async () => {
      const t = await openTenant(store, USD);
      const r = reserveInput(t, 500n);
      await store.reserve(r);
      await env.redis.del(env.keys.balance(t.tenantId));
      const s = await store.settle({ ...t, requestId: r.requestId, costMicros: 400n, byokFeeMicros: 0n, event: {} });
      expect(s).toMatchObject({ kind: 'settled', releasedMicros: 500n, balanceMicros: null });
      expect(await streamLen(t.tenantId)).toBe(1);
    });

    it('refuses reserved event fields, events that are not maps of strings and a key that does not own the hold', async () => {
      const t = await openTenant(store, USD);
      const r = reserveInput(t, 5n);
      await store.reserve(r);
      const base = { ...t, requestId: r.requestId, costMicros: 1n, byokFeeMicros: 0n };
      await expect(store.settle({ ...base, event: { costMicros: '0' } })).rejects.toThrow(RangeError);
      await expect(store.settle({ ...base, event: { status: 200 } as unknown as Record<string, string> })).rejects.toThrow('event field status must be a string');
      for (const event of [null, ['a', 'b'], 'xy']) {
        await expect(store.settle({ ...base, event: event as unknown as Record<string, string> })).rejects.toThrow('event must be an object of strings');
      }
      expect(await store.getCredits(t.tenantId)).toMatchObject({ reserved: 5n, usage: 0n });
      await expect(store.settle({ ...base, keyId: uid('key'), event: {} })).rejects.toThrow(/another key/);
      expect((await store.settle({ ...base, event: {} })).kind).toBe('settled');
    });
  });

  describe('renew and sweep', () => {
    it('renewing keeps a running hold from being swept; never shortens', async () => {
      const t = await openTenant(store, USD);
      const r = reserveInput(t, 700n, { holdTtlMs: 10_000 });
      await store.reserve(r);
      expect(await store.renew(t.tenantId, r.requestId, 10_000, T0 + 8_000)).toEqual({ kind: 'renewed', expiresAtMs: T0 + 18_000 });
      expect(await store.renew(t.tenantId, r.requestId, 1_000, T0 + 9_000)).toEqual({ kind: 'renewed', expiresAtMs: T0 + 18_000 });
      expect(await store.sweepExpiredHolds(bucketOf(t.tenantId), T0 + 15_000, 100)).not.toContainEqual(
        expect.objectContaining({ requestId: r.requestId }),
      );
      expect(await store.getCredits(t.tenantId)).toMatchObject({ reserved: 700n });
      expect(await store.renew(t.tenantId, uid('gen'), 1_000, T0)).toEqual({ kind: 'missing' });
    });

    it('releases expired holds only, including their key credit-limit share', async () => {
      const t = await openTenant(store, USD);
      const lim = { keyCreditLimit: { limitMicros: USD, periodId: 'p' } };
      const dead = reserveInput(t, 300n, { holdTtlMs: 1_000, ...lim });
      const live = reserveInput(t, 200n, { holdTtlMs: 60_000, ...lim });
      await store.reserve(dead);
      await store.reserve(live);
      const released = await store.sweepExpiredHolds(bucketOf(t.tenantId), T0 + 2_000, 1000);
      expect(released.filter((h) => h.tenantId === t.tenantId)).toEqual([{ ...t, requestId: dead.requestId, amountMicros: 300n }]);
      expect(await store.getCredits(t.tenantId)).toMatchObject({ reserved: 200n, balance: USD });
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toMatchObject({ held: 200n });
      expect([...(await store.listHolds(t.tenantId)).keys()]).toEqual([live.requestId]);
      expect(await store.sweepExpiredHolds(bucketOf(t.tenantId), T0 + 2_000, 1000)).toEqual([]);
    });
  });

  describe('adjustHold (fallback to a pricier model)', () => {
    it('grows with the same checks, shrinks freely, and cannot revive a settled request', async () => {
      const t = await openTenant(store, 1_000n);
      const other = reserveInput(t, 200n);
      await store.reserve(other);
      const r = reserveInput(t, 300n);
      await store.reserve(r);
      const adj = { ...t, requestId: r.requestId, overdraftMicros: 0n, holdTtlMs: 120_000, nowMs: T0 + 1 };
      expect(await store.adjustHold({ ...adj, amountMicros: 900n })).toEqual({ kind: 'insufficient', availableMicros: 800n, inFlightHolds: true });
      expect(await store.adjustHold({ ...adj, amountMicros: 800n })).toMatchObject({ kind: 'ok', holdMicros: 800n, availableMicros: 0n });
      expect(await store.adjustHold({ ...adj, amountMicros: 100n })).toMatchObject({ kind: 'ok', availableMicros: 700n });
      expect(await store.getCredits(t.tenantId)).toMatchObject({ reserved: 300n });
      expect(
        await store.adjustHold({ ...adj, amountMicros: 600n, keyCreditLimit: { limitMicros: 500n, periodId: 'p' } }),
      ).toMatchObject({ kind: 'key_limit', heldMicros: 300n });
      await store.setKeyStatus(t.tenantId, t.keyId, 'revoked');
      expect((await store.adjustHold({ ...adj, amountMicros: 200n })).kind).toBe('key_inactive');
      await store.setKeyStatus(t.tenantId, t.keyId, 'active');
      await store.settle({ ...t, requestId: r.requestId, costMicros: 50n, byokFeeMicros: 0n, event: {} });
      expect(await store.adjustHold({ ...adj, amountMicros: 200n })).toEqual({ kind: 'already_settled' });
      expect(await store.getCredits(t.tenantId)).toMatchObject({ reserved: 200n, balance: 950n });
    });

    it('checks the key limit when a hold taken without it (own key) moves to the platform, even without growing', async () => {
      const t = await openTenant(store, 1_000_000n);
      const limit = { limitMicros: 1_000n, periodId: 'p' };
      // Platform spend brings the key to 950 of its 1,000.
      const spent = reserveInput(t, 950n, { keyCreditLimit: limit });
      await store.reserve(spent);
      await store.settle({ ...t, requestId: spent.requestId, costMicros: 950n, byokFeeMicros: 0n, keyPeriodId: 'p', keyLimitIncludesByokFee: false, event: {} });
      // An own-key request (its fee not counted) holds 400 without the check.
      const own = reserveInput(t, 400n);
      expect((await store.reserve(own)).kind).toBe('ok');
      const adj = { ...t, requestId: own.requestId, overdraftMicros: 0n, holdTtlMs: 120_000, nowMs: T0 + 1, keyCreditLimit: limit };
      // Its fallback to the platform costs no more (400, then 60) but must fit the limit, at its own amount.
      expect(await store.adjustHold({ ...adj, amountMicros: 400n })).toMatchObject({ kind: 'key_limit', spentMicros: 950n, heldMicros: 400n });
      expect(await store.adjustHold({ ...adj, amountMicros: 60n })).toMatchObject({ kind: 'key_limit' });
      expect(await store.adjustHold({ ...adj, amountMicros: 50n })).toMatchObject({ kind: 'ok', holdMicros: 50n });
      expect(await store.getKeySpend(t.tenantId, t.keyId)).toMatchObject({ spent: 950n, held: 50n });
      // Without a limit the adjustment is free to shrink, as before.
      expect(await store.adjustHold({ ...adj, keyCreditLimit: null, amountMicros: 30n })).toMatchObject({ kind: 'ok', holdMicros: 30n });
    });
  });
});
