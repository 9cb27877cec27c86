import type { Micros } from '@gw/core';
import type { Redis } from 'ioredis';
import { BUCKET_COUNT, bucketOf, RedisKeys } from './redis-keys';
import { isReservedEventField } from './wire';

/** One settled request as the billing worker sees it. */
export interface UsageEvent {
  streamId: string;
  bucket: number;
  requestId: string;
  tenantId: string;
  keyId: string;
  costMicros: Micros;
  byokFeeMicros: Micros;
  /** The event map given to settle (model, provider, status, token counts...). */
  fields: Record<string, string>;
  /**
   * Why the event map could not be read (then `fields` is empty): the entry is still a charge,
   * with valid ids and amounts, and is written to the ledger; only its details are lost.
   */
  fieldsProblem?: string;
}

/** Dead letters kept per bucket (the oldest are trimmed): at most 256 × 1,000 small entries. */
export const DEAD_LETTERS_KEPT = 1_000;
/** Longest field value a dead letter keeps. */
const DEAD_LETTER_VALUE_CHARS = 512;

/**
 * What a dead letter keeps of an entry: its fields but the event's details and any stored prompt
 * (a tenant's content must not outlive its log retention in an operator's queue), each value cut
 * to DEAD_LETTER_VALUE_CHARS.
 */
function deadLetterFields(fields: Record<string, string>): string {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'event' || k === 'content') continue;
    kept[k] = v.length > DEAD_LETTER_VALUE_CHARS ? `${v.slice(0, DEAD_LETTER_VALUE_CHARS)}…` : v;
  }
  return JSON.stringify(kept);
}

/** An entry that is not a usage event settle could have written (no valid ids or amounts): dead-letter it, then ack. */
export interface MalformedEntry {
  streamId: string;
  bucket: number;
  fields: Record<string, string>;
  reason: string;
}

export interface UsageBatch {
  events: UsageEvent[];
  malformed: MalformedEntry[];
}

export interface UsageStreamOptions {
  /** This worker's name in the consumer group (stable across restarts: e.g. the pod name). */
  consumer: string;
  group?: string;
}

type RawEntry = [id: string, fields: string[] | null];

/**
 * The billing worker's side of the usage streams (`usage:{b}`, one per bucket). Delivery is
 * at-least-once: an event is acknowledged (XACK, then XDEL so the stream holds only unwritten
 * usage) after its ledger rows are committed; a worker killed mid-batch leaves its entries
 * pending, and `claimStale` hands them to another worker. The ledger's unique
 * `usage:<request id>` key makes the redelivery harmless (I4).
 */
export class UsageStream {
  private readonly group: string;
  private readonly consumer: string;
  private readonly groupsReady = new Set<number>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    options: UsageStreamOptions,
  ) {
    if (redis.options.keyPrefix) throw new Error('UsageStream needs a Redis client without keyPrefix');
    if (!options.consumer) throw new RangeError('a consumer name is required');
    this.group = options.group ?? 'billing';
    this.consumer = options.consumer;
  }

  /** Every bucket, for a worker that drains them all. */
  static buckets(): number[] {
    return Array.from({ length: BUCKET_COUNT }, (_, b) => b);
  }

  /** Creates the consumer group (and the stream, MKSTREAM) if missing. Reads from the start. */
  async ensureGroup(bucket: number): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.usageStream(bucket), this.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('BUSYGROUP')) throw err;
    }
    this.groupsReady.add(bucket);
  }

  /** New entries for this consumer (up to `count`); optionally blocks up to `blockMs`. */
  async readUsage(bucket: number, count: number, blockMs?: number): Promise<UsageBatch> {
    return this.readGroup(bucket, count, '>', blockMs);
  }

  /** This consumer's own delivered-but-unacknowledged entries (after a restart under the same name). */
  async readPending(bucket: number, count: number): Promise<UsageBatch> {
    return this.readGroup(bucket, count, '0');
  }

  /**
   * Takes over entries another consumer received but did not acknowledge for `minIdleMs`
   * (it died mid-batch). Entries deleted meanwhile are dropped from the pending list by Redis.
   */
  async claimStale(bucket: number, minIdleMs: number, count: number): Promise<UsageBatch> {
    const key = this.keys.usageStream(bucket);
    await this.ready(bucket);
    const entries: RawEntry[] = [];
    let cursor = '0-0';
    do {
      const reply = (await this.withGroup(bucket, () =>
        this.redis.xautoclaim(key, this.group, this.consumer, minIdleMs, cursor, 'COUNT', count - entries.length),
      )) as [string, RawEntry[], string[]?];
      cursor = reply[0];
      entries.push(...reply[1]);
    } while (cursor !== '0-0' && entries.length < count);
    return parseEntries(bucket, entries);
  }

  /**
   * Acknowledges and deletes written entries; returns how many were pending. `dead` (entries that
   * could not be charged) are first copied to the bucket's dead-letter stream, with why, for an
   * operator to look at (`XRANGE <prefix>usage:{b}:dead - +`); it keeps the last DEAD_LETTERS_KEPT.
   */
  async ackUsage(bucket: number, ids: readonly string[], dead: readonly MalformedEntry[] = []): Promise<number> {
    if (ids.length === 0) return 0;
    const key = this.keys.usageStream(bucket);
    // Dead letters first, on their own: if one cannot be written, nothing is acknowledged and the
    // entries are read again (a MULTI would still have acknowledged them).
    if (dead.length > 0) {
      const deadKey = this.keys.usageDeadLetter(bucket);
      const p = this.redis.pipeline();
      for (const m of dead) p.xadd(deadKey, 'MAXLEN', '~', String(DEAD_LETTERS_KEPT), '*', 'streamId', m.streamId, 'reason', m.reason, 'fields', deadLetterFields(m.fields));
      for (const [err] of (await p.exec()) ?? []) if (err) throw err;
    }
    const res = await this.redis.multi().xack(key, this.group, ...ids).xdel(key, ...ids).exec();
    if (!res) throw new Error('usage ack transaction aborted');
    const [ackErr, acked] = res[0];
    if (ackErr) throw ackErr;
    if (res[1][0]) throw res[1][0];
    return Number(acked);
  }

  /** The id of the newest entry in the tenant's usage stream, '-' when it is empty. */
  async lastIdOf(tenantId: string): Promise<string> {
    const last = (await this.redis.xrevrange(this.keys.usageStreamOf(tenantId), '+', '-', 'COUNT', 1)) as RawEntry[];
    return last[0]?.[0] ?? '-';
  }

  /**
   * Σ cost + fee of a tenant's events still in its stream (settled, not yet in the ledger).
   * A rebuild or reconciliation needs it: Redis balance = ledger - this.
   */
  async unwrittenUsageOf(tenantId: string): Promise<Micros> {
    const key = this.keys.usageStreamOf(tenantId);
    let total = 0n;
    let start = '-';
    for (;;) {
      const page = (await this.redis.xrange(key, start, '+', 'COUNT', 500)) as RawEntry[];
      const { events } = parseEntries(bucketOf(tenantId), page);
      for (const e of events) if (e.tenantId === tenantId) total += e.costMicros + e.byokFeeMicros;
      if (page.length < 500) return total;
      start = `(${page[page.length - 1][0]}`;
    }
  }

  private async readGroup(bucket: number, count: number, from: '>' | '0', blockMs?: number): Promise<UsageBatch> {
    const key = this.keys.usageStream(bucket);
    await this.ready(bucket);
    const args: (string | number)[] = ['GROUP', this.group, this.consumer, 'COUNT', count];
    if (blockMs !== undefined) args.push('BLOCK', blockMs);
    args.push('STREAMS', key, from);
    const reply = (await this.withGroup(bucket, () =>
      (this.redis.xreadgroup as (...a: (string | number)[]) => Promise<unknown>)(...args),
    )) as [string, RawEntry[]][] | null;
    return parseEntries(bucket, reply?.[0]?.[1] ?? []);
  }

  private async ready(bucket: number): Promise<void> {
    if (!this.groupsReady.has(bucket)) await this.ensureGroup(bucket);
  }

  /** The stream (and its group) can vanish (deleted by an operator): recreate once and retry. */
  private async withGroup<T>(bucket: number, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOGROUP')) throw err;
      this.groupsReady.delete(bucket);
      await this.ensureGroup(bucket);
      return op();
    }
  }
}

function parseEntries(bucket: number, entries: readonly RawEntry[]): UsageBatch {
  const batch: UsageBatch = { events: [], malformed: [] };
  for (const [streamId, flat] of entries) {
    if (!flat) continue;
    const all: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) all[flat[i]] = flat[i + 1];
    const parsed = parseEvent(streamId, bucket, all);
    if (typeof parsed === 'string') batch.malformed.push({ streamId, bucket, fields: all, reason: parsed });
    else batch.events.push(parsed);
  }
  return batch;
}

/**
 * One usage entry's fields (a stream entry, or a line of the gateway's usage journal, which
 * holds the same fields) as an event, or why it cannot be charged.
 */
export function parseEvent(streamId: string, bucket: number, all: Record<string, string>): UsageEvent | string {
  const { requestId, tenantId, keyId, costMicros, byokFeeMicros } = all;
  if (!requestId || !tenantId || !keyId) return 'missing requestId, tenantId or keyId';
  if (!/^\d+$/.test(costMicros ?? '') || !/^\d+$/.test(byokFeeMicros ?? '')) return 'bad amounts';
  const fields = eventFieldsOf(all);
  return {
    streamId,
    bucket,
    requestId,
    tenantId,
    keyId,
    costMicros: BigInt(costMicros),
    byokFeeMicros: BigInt(byokFeeMicros),
    ...(typeof fields === 'string' ? { fields: {}, fieldsProblem: fields } : { fields }),
  };
}

/**
 * The caller's event map of a stream entry: the JSON of its `event` field, or, in an entry an
 * earlier version of settle wrote, its own fields other than the money fields.
 */
export function eventFieldsOf(all: Record<string, string>): Record<string, string> | string {
  if (all.event === undefined) {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(all)) if (!isReservedEventField(k)) fields[k] = v;
    return fields;
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(all.event);
  } catch {
    return 'event is not JSON';
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) return 'event is not a JSON object';
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(decoded)) {
    if (typeof v !== 'string') return `event field ${k} is not a string`;
    if (!isReservedEventField(k)) fields[k] = v;
  }
  return fields;
}
