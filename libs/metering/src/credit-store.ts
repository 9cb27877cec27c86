import type { Micros } from '@gw/core';
import type { Redis } from 'ioredis';
import type {
  AdjustHoldInput,
  ApplyLedgerResult,
  BalanceSnapshot,
  Credits,
  ForceBalanceResult,
  KeyCreditLimit,
  KeyStatus,
  LedgerEntryPush,
  ReleasedHold,
  RenewResult,
  ReserveInput,
  ReserveResult,
  SettleInput,
  SettleResult,
} from './credit-store.types';
import { LuaScript } from './lua-script';
import { assertId, bucketOf, RedisKeys } from './redis-keys';
import { APPLY_LEDGER_LUA } from './scripts/apply-ledger.lua';
import { EXPIRE_HOLD_LUA } from './scripts/expire-hold.lua';
import { INIT_BALANCE_LUA } from './scripts/init-balance.lua';
import { RENEW_LUA } from './scripts/renew.lua';
import { RESERVE_LUA } from './scripts/reserve.lua';
import { SETTLE_LUA } from './scripts/settle.lua';
import { asMicros, isReservedEventField, parseMicros, parseMs, unexpectedReply } from './wire';

export interface CreditStoreOptions {
  /** How long a settle is remembered (a later duplicate is refused). Default: one day. */
  settledTtlMs?: number;
  /** Rate-limit window (rpm/tpm are per this window). Default: 60 s. */
  rateWindowMs?: number;
}

const SCRIPTS = {
  reserve: new LuaScript('reserve', RESERVE_LUA),
  settle: new LuaScript('settle', SETTLE_LUA),
  renew: new LuaScript('renew', RENEW_LUA),
  expireHold: new LuaScript('expire-hold', EXPIRE_HOLD_LUA),
  applyLedger: new LuaScript('apply-ledger', APPLY_LEDGER_LUA),
  initBalance: new LuaScript('init-balance', INIT_BALANCE_LUA),
};

/**
 * The Redis reservation book: balances, holds, key status, rate limits and the usage stream
 * append, each operation one Lua script (one round trip, atomic). Redis is rebuildable from the
 * Postgres ledger (I10); this class never decides that a missing balance is zero.
 *
 * Wire with a factory provider: `new CreditStore(redis, new RedisKeys(config.REDIS_PREFIX))`.
 * The client must not use ioredis' `keyPrefix` (RedisKeys carries the prefix, and ioredis would
 * prefix script KEYS a second time).
 */
export class CreditStore {
  private readonly settledTtlMs: number;
  private readonly windowMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    options: CreditStoreOptions = {},
  ) {
    if (redis.options.keyPrefix) throw new Error('CreditStore needs a Redis client without keyPrefix');
    this.settledTtlMs = positiveInt(options.settledTtlMs ?? 86_400_000, 'settledTtlMs');
    this.windowMs = positiveInt(options.rateWindowMs ?? 60_000, 'rateWindowMs');
  }

  /** Key status, rate limits, balance and key credit limit checked and the hold taken: one script. */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    return this.runReserve('reserve', input, {
      rpm: optionalLimit(input.rpmLimit, 'rpmLimit'),
      tpm: optionalLimit(input.tpmLimit, 'tpmLimit'),
      tokens: nonNegativeInt(input.tokensEstimate, 'tokensEstimate'),
    });
  }

  /**
   * Resize the request's hold to `amountMicros` (a fallback to another model or key). Growing it
   * runs the same checks as reserve except rate limits (it is the same request). Shrinking never
   * fails for the balance; given a key credit limit, the key's spend and holds with the new amount
   * must fit it (a move from a hold the limit did not count). A hold that was swept is taken afresh.
   */
  async adjustHold(input: AdjustHoldInput): Promise<ReserveResult> {
    return this.runReserve('adjust', input, { rpm: '', tpm: '', tokens: 0 });
  }

  private async runReserve(
    mode: 'reserve' | 'adjust',
    input: AdjustHoldInput,
    rate: { rpm: string; tpm: string; tokens: number },
  ): Promise<ReserveResult> {
    const { tenantId, keyId, requestId } = input;
    assertId(requestId, 'request id');
    const now = nonNegativeInt(input.nowMs, 'nowMs');
    const expiresAt = now + positiveInt(input.holdTtlMs, 'holdTtlMs');
    const windowId = Math.floor(now / this.windowMs);
    const limit = keyLimitArgs(input.keyCreditLimit);
    const k = this.keys;
    const reply = await SCRIPTS.reserve.run(
      this.redis,
      [
        k.balance(tenantId),
        k.holds(tenantId),
        k.holdExpiryOf(tenantId),
        k.keyStatus(tenantId, keyId),
        k.keySpend(tenantId, keyId),
        k.settled(tenantId, requestId),
        k.rateWindow(tenantId, keyId, windowId),
        k.rateWindow(tenantId, keyId, windowId - 1),
      ],
      [
        mode,
        tenantId,
        keyId,
        requestId,
        asMicros(input.amountMicros, 'amountMicros', 0n),
        asMicros(input.overdraftMicros, 'overdraftMicros', 0n),
        String(expiresAt),
        String(now),
        String(this.windowMs),
        String(windowId * this.windowMs),
        rate.rpm,
        rate.tpm,
        String(rate.tokens),
        limit.limit,
        limit.periodId,
        String(2 * this.windowMs),
        input.countsTowardKeyLimit === false ? '0' : '1',
      ],
    );
    switch (reply[0]) {
      case 'ok':
        return {
          kind: 'ok',
          holdMicros: parseMicros(reply[1]),
          availableMicros: parseMicros(reply[2]),
          replayed: reply[3] === '1',
          expiresAtMs: parseMs(reply[4]),
        };
      case 'key_inactive':
        return { kind: 'key_inactive', status: reply[1] || null };
      case 'rate_limited':
        return {
          kind: 'rate_limited',
          limit: reply[1] === 'tpm' ? 'tpm' : 'rpm',
          retryAfterMs: reply[2] ? parseMs(reply[2]) : null,
        };
      case 'balance_missing':
        return { kind: 'balance_missing' };
      case 'insufficient':
        return { kind: 'insufficient', availableMicros: parseMicros(reply[1]), inFlightHolds: reply[2] === '1' };
      case 'key_limit':
        return {
          kind: 'key_limit',
          limitMicros: parseMicros(reply[1]),
          spentMicros: parseMicros(reply[2]),
          heldMicros: parseMicros(reply[3]),
        };
      case 'already_settled':
        return { kind: 'already_settled' };
      default:
        throw unexpectedReply('reserve', reply);
    }
  }

  /** Streams call this while they run so the sweeper never releases a live request's hold. */
  async renew(tenantId: string, requestId: string, holdTtlMs: number, nowMs: number): Promise<RenewResult> {
    const expiresAt = nonNegativeInt(nowMs, 'nowMs') + positiveInt(holdTtlMs, 'holdTtlMs');
    const reply = await SCRIPTS.renew.run(
      this.redis,
      [this.keys.holds(tenantId), this.keys.holdExpiryOf(tenantId)],
      [tenantId, checkedId(requestId, 'request id'), String(expiresAt)],
    );
    if (reply[0] === 'renewed') return { kind: 'renewed', expiresAtMs: parseMs(reply[1]) };
    if (reply[0] === 'missing') return { kind: 'missing' };
    throw unexpectedReply('renew', reply);
  }

  /** Release the hold, debit cost + fee, count the key's spend, append the usage event: atomic, once. */
  async settle(input: SettleInput): Promise<SettleResult> {
    const { tenantId, keyId, requestId } = input;
    const cost = asMicros(input.costMicros, 'costMicros', 0n);
    const fee = asMicros(input.byokFeeMicros, 'byokFeeMicros', 0n);
    const event: unknown = input.event;
    if (event === null || typeof event !== 'object' || Array.isArray(event)) throw new TypeError('event must be an object of strings');
    for (const [name, value] of Object.entries(event)) {
      if (isReservedEventField(name)) throw new RangeError(`event field ${name} is set by settle itself`);
      if (typeof value !== 'string') throw new TypeError(`event field ${name} must be a string`);
    }
    const periodId = input.keyPeriodId ?? '';
    if (periodId) assertId(periodId, 'key period id');
    const k = this.keys;
    const reply = await SCRIPTS.settle.run(
      this.redis,
      [
        k.balance(tenantId),
        k.holds(tenantId),
        k.holdExpiryOf(tenantId),
        k.keySpend(tenantId, keyId),
        k.settled(tenantId, requestId),
        k.usageStreamOf(tenantId),
      ],
      [
        tenantId,
        keyId,
        requestId,
        cost,
        fee,
        periodId,
        input.keyLimitIncludesByokFee ? '1' : '0',
        String(this.settledTtlMs),
        JSON.stringify(input.event),
      ],
    );
    if (reply[0] === 'already') return { kind: 'already' };
    if (reply[0] !== 'settled') throw unexpectedReply('settle', reply);
    return {
      kind: 'settled',
      streamId: reply[1],
      releasedMicros: parseMicros(reply[2]),
      balanceMicros: reply[3] ? parseMicros(reply[3]) : null,
    };
  }

  /** Ledger entries (credits and non-usage debits) applied exactly once each, in seq order. */
  async applyLedger(tenantId: string, entries: readonly LedgerEntryPush[]): Promise<ApplyLedgerResult> {
    const sorted = [...entries].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    const args: string[] = [];
    for (const e of sorted) args.push(asMicros(e.seq, 'seq', 1n), asMicros(e.amountMicros, 'amountMicros'));
    const reply = await SCRIPTS.applyLedger.run(this.redis, [this.keys.balance(tenantId)], args);
    if (reply[0] === 'balance_missing') return { kind: 'balance_missing' };
    if (reply[0] !== 'applied') throw unexpectedReply('apply-ledger', reply);
    return {
      kind: 'applied',
      seq: BigInt(reply[1]),
      appliedCount: Number(reply[2]),
      balanceMicros: parseMicros(reply[3]),
    };
  }

  /**
   * Creates the balance hash from ledger figures only if it is absent: true when it did, false
   * when it existed. With `lastUsageId` (from `UsageStream.lastIdOf`, read before the figures), only if the
   * tenant's usage stream has had no entry added since: else 'stream_moved' (read again).
   */
  async initBalance(tenantId: string, snapshot: BalanceSnapshot, lastUsageId = ''): Promise<boolean | 'stream_moved'> {
    const reply = await this.runInit('init', tenantId, snapshot, { lastUsageId });
    if (reply[0] === 'exists') return false;
    if (reply[0] === 'done') return true;
    if (reply[0] === 'stream_moved') return 'stream_moved';
    throw unexpectedReply('init-balance', reply);
  }

  /**
   * Reconciliation repair: overwrites bal/cred/used/seq (held is recomputed from open holds).
   * Pass `expectedSeq` to refuse if a ledger entry was applied since the reconciler read.
   */
  /**
   * Overwrites the balance (reconciliation). `expectedSeq`: only if no credit was applied since it
   * was read; `expected`: only if the balance and usage are still the ones read (no settle since).
   */
  async forceBalance(tenantId: string, snapshot: BalanceSnapshot, expectedSeq?: bigint, expected?: { balanceMicros: bigint; usageMicros: bigint }): Promise<ForceBalanceResult> {
    const reply = await this.runInit('force', tenantId, snapshot, {
      seq: expectedSeq === undefined ? '' : asMicros(expectedSeq, 'expectedSeq', 0n),
      balance: expected === undefined ? '' : asMicros(expected.balanceMicros, 'expected balance'),
      usage: expected === undefined ? '' : asMicros(expected.usageMicros, 'expected usage'),
    });
    if (reply[0] === 'done') return { kind: 'forced', heldMicros: parseMicros(reply[1]) };
    if (reply[0] === 'seq_mismatch') return { kind: 'seq_mismatch', seq: reply[1] ? BigInt(reply[1]) : null };
    if (reply[0] === 'balance_moved') return { kind: 'balance_moved' };
    throw unexpectedReply('init-balance', reply);
  }

  /** `guard`: what must still hold for the write ('' or absent: no condition), see the script. */
  private runInit(mode: 'init' | 'force', tenantId: string, s: BalanceSnapshot, guard: { seq?: string; balance?: string; usage?: string; lastUsageId?: string }): Promise<string[]> {
    // I3 in its Redis form: the book must balance before it is written.
    if (s.balanceMicros !== s.creditsMicros - s.usageMicros) {
      throw new RangeError(`balance ${s.balanceMicros} != credits ${s.creditsMicros} - usage ${s.usageMicros}`);
    }
    return SCRIPTS.initBalance.run(
      this.redis,
      [this.keys.balance(tenantId), this.keys.holds(tenantId), this.keys.usageStreamOf(tenantId)],
      [
        mode,
        asMicros(s.balanceMicros, 'balanceMicros'),
        asMicros(s.creditsMicros, 'creditsMicros'),
        asMicros(s.usageMicros, 'usageMicros'),
        asMicros(s.seq, 'seq', 0n),
        guard.seq ?? '',
        guard.balance ?? '',
        guard.usage ?? '',
        guard.lastUsageId ?? '',
      ],
    );
  }

  /** OpenRouter-style credits view; null when the balance must be rebuilt. */
  async getCredits(tenantId: string): Promise<Credits | null> {
    const [bal, held, cred, used, seq] = await this.redis.hmget(
      this.keys.balance(tenantId),
      'bal',
      'held',
      'cred',
      'used',
      'seq',
    );
    if (bal === null) return null;
    return {
      balance: parseMicros(bal),
      reserved: parseMicros(held ?? '0'),
      credits: parseMicros(cred ?? '0'),
      usage: parseMicros(used ?? '0'),
      seq: BigInt(seq ?? '0'),
    };
  }

  /** Open holds of a tenant (reconciliation: Σ amounts must equal `reserved`). */
  async listHolds(tenantId: string): Promise<Map<string, { keyId: string; amountMicros: Micros }>> {
    const raw = await this.redis.hgetall(this.keys.holds(tenantId));
    const out = new Map<string, { keyId: string; amountMicros: Micros }>();
    for (const [requestId, value] of Object.entries(raw)) {
      // "amount|keyId", or "amount|keyId|u" for a hold the key's credit limit does not count.
      const [amount, keyId] = value.split('|');
      out.set(requestId, { amountMicros: parseMicros(amount), keyId });
    }
    return out;
  }

  /** A key's credit-limit counters: spend of `periodId` and its open holds. */
  async getKeySpend(tenantId: string, keyId: string): Promise<{ periodId: string | null; spent: Micros; held: Micros }> {
    const [pid, spent, held] = await this.redis.hmget(this.keys.keySpend(tenantId, keyId), 'pid', 'spent', 'held');
    return { periodId: pid, spent: parseMicros(spent ?? '0'), held: parseMicros(held ?? '0') };
  }

  /**
   * Releases holds whose expiry passed (their gateway died). Each release re-checks the expiry
   * atomically, so a hold renewed or settled meanwhile is left alone.
   */
  async sweepExpiredHolds(bucket: number, nowMs: number, limit: number): Promise<ReleasedHold[]> {
    const zset = this.keys.holdExpiry(bucket);
    const members = await this.redis.zrangebyscore(zset, '-inf', nonNegativeInt(nowMs, 'nowMs'), 'LIMIT', 0, positiveInt(limit, 'limit'));
    const results = await Promise.all(
      members.map(async (member): Promise<ReleasedHold | null> => {
        const [tenantId, keyId, requestId] = member.split('|');
        if (!tenantId || !keyId || !requestId || bucketOf(tenantId) !== bucket) {
          await this.redis.zrem(zset, member);
          return null;
        }
        const reply = await SCRIPTS.expireHold.run(
          this.redis,
          [this.keys.balance(tenantId), this.keys.holds(tenantId), zset, this.keys.keySpend(tenantId, keyId)],
          [member, requestId, keyId, String(nowMs)],
        );
        if (reply[0] !== 'released') return null;
        return { tenantId, keyId, requestId, amountMicros: parseMicros(reply[1]) };
      }),
    );
    return results.filter((r): r is ReleasedHold => r !== null);
  }

  /** Written by the admin side on create/revoke/rotate; reserve refuses anything but 'active'. */
  async setKeyStatus(tenantId: string, keyId: string, status: KeyStatus): Promise<void> {
    await this.redis.set(this.keys.keyStatus(tenantId, keyId), status);
  }

  async getKeyStatus(tenantId: string, keyId: string): Promise<string | null> {
    return this.redis.get(this.keys.keyStatus(tenantId, keyId));
  }

  async deleteKeyStatus(tenantId: string, keyId: string): Promise<void> {
    await this.redis.del(this.keys.keyStatus(tenantId, keyId));
  }
}

function keyLimitArgs(limit: KeyCreditLimit | null | undefined): { limit: string; periodId: string } {
  if (!limit) return { limit: '', periodId: '' };
  assertId(limit.periodId, 'key period id');
  return { limit: asMicros(limit.limitMicros, 'limitMicros', 0n), periodId: limit.periodId };
}

/** null/undefined: no limit. 0 is a limit nothing passes (answered rate_limited, retryAfterMs null). */
function optionalLimit(v: number | null | undefined, name: string): string {
  return v === null || v === undefined ? '' : String(nonNegativeInt(v, name));
}

function checkedId(id: string, what: string): string {
  assertId(id, what);
  return id;
}

function nonNegativeInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer: ${n}`);
  return n;
}

function positiveInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer: ${n}`);
  return n;
}
