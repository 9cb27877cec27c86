import { Injectable, Logger } from '@nestjs/common';
import { PrismaService, LedgerRepository, RequestLogRepository, type RequestLogInput, type SettledEntryInput } from '@gw/db';
import { UsageStream, priceCardFrom, priceCardText, type MalformedEntry, type PriceCard, type UsageBatch, type UsageEvent } from '@gw/metering';

const BATCH = 500;
/**
 * Buckets read at once. All 256 at once held up to 256 × 500 events in memory under a backlog
 * (the worker peaked at 716 MB in the bench); 32 keeps a backlog to 32 × 500 and still needs only
 * 8 rounds of pipelined reads per pass when the streams are nearly empty.
 */
const BUCKETS_AT_ONCE = 32;
const STALE_MS = 30_000;
/**
 * A bucket whose read came back full is read again in the same pass, for up to this long: one
 * busy tenant's stream is drained at Postgres speed, not at one batch per drain interval.
 */
const PASS_BUDGET_MS = 5_000;

/** Told, after a batch is committed, which tenants spent in it. */
export type SpentListener = (tenantIds: string[]) => Promise<void>;

/**
 * Drains the usage streams into Postgres: per event one `usage:<request id>` ledger entry (and a
 * `byok_fee:` one when charged) and one request log, in one transaction per batch, then XACK.
 * Delivery is at least once; the unique idempotency keys make every redelivery a no-op.
 */
@Injectable()
export class UsageWriter {
  private readonly logger = new Logger('usage-writer');
  private readonly listeners: SpentListener[] = [];

  constructor(
    private readonly stream: UsageStream,
    private readonly prisma: PrismaService,
    private readonly ledger: LedgerRepository,
    private readonly logs: RequestLogRepository,
  ) {}

  /** Auto top-up watches the tenants that spent (off the hot path: here, after the ledger write). */
  onSpent(listener: SpentListener): void {
    this.listeners.push(listener);
  }

  /**
   * One pass over every bucket: stale entries of dead workers first, then new ones; buckets that
   * had a full batch waiting are read again until they are drained or the pass budget is spent.
   */
  async drainAll(claimStale = false): Promise<number> {
    const started = Date.now();
    let buckets = UsageStream.buckets();
    let written = 0;
    const failed: Array<[number, Error]> = [];
    // Which reads of a bucket came back full last round, so are read again (a backlog of stale or
    // pending entries after an outage drains as fast as fresh ones).
    let again = new Map<number, { stale: boolean; pending: boolean }>(buckets.map((b) => [b, { stale: claimStale, pending: true }]));
    const none: UsageBatch = { events: [], malformed: [] };
    const isFull = (r: UsageBatch) => r.events.length + r.malformed.length >= BATCH;
    while (buckets.length > 0) {
      const full: number[] = [];
      const next = new Map<number, { stale: boolean; pending: boolean }>();
      for (let i = 0; i < buckets.length; i += BUCKETS_AT_ONCE) {
        const batches = await Promise.all(
          buckets.slice(i, i + BUCKETS_AT_ONCE).map(async (b) => {
            const want = again.get(b);
            const stale = want?.stale ? await this.stream.claimStale(b, STALE_MS, BATCH) : none;
            const own = want?.pending ? await this.stream.readPending(b, BATCH) : none;
            const fresh = await this.stream.readUsage(b, BATCH);
            if (isFull(stale) || isFull(own) || isFull(fresh)) {
              full.push(b);
              next.set(b, { stale: isFull(stale), pending: isFull(own) });
            }
            return { b, batch: merge(stale, own, fresh) };
          }),
        );
        for (const { b, batch } of batches) {
          if (!batch.events.length && !batch.malformed.length) continue;
          // One bucket that cannot be written (its entries stay pending for the next pass) must not
          // hold up the buckets after it.
          try {
            written += await this.write(b, batch);
          } catch (e) {
            failed.push([b, e as Error]);
            const i = full.indexOf(b);
            if (i >= 0) full.splice(i, 1);
          }
        }
      }
      buckets = Date.now() - started < PASS_BUDGET_MS ? full : [];
      again = next;
    }
    if (failed.length) {
      const [b, e] = failed[0];
      throw new Error(`usage drain: ${failed.length} bucket(s) not written (bucket ${b}: ${e.message}); ${written} event(s) written`);
    }
    return written;
  }

  async write(bucket: number, batch: UsageBatch): Promise<number> {
    for (const m of batch.malformed) this.logger.error(`malformed usage entry ${m.streamId} (tenant ${m.fields.tenantId ?? '?'}, cost ${m.fields.costMicros ?? '?'}) moved to the dead-letter stream: ${m.reason}`);
    for (const e of batch.events) if (e.fieldsProblem) this.logger.warn(`usage entry ${e.streamId} (${e.requestId}) charged without its details: ${e.fieldsProblem}`);
    const ids = (events: readonly UsageEvent[]) => events.map((e) => e.streamId);
    const deadLettersOf = (refused: readonly RefusedEvent[]) => refused.map((r) => this.refusedLetter(r));
    let entries: SettledEntryInput[];
    try {
      const r = await persistUsageEventByEvent(this.prisma, this.ledger, this.logs, batch.events, (e, problem) =>
        this.logger.warn(`usage entry ${e.streamId} (${e.requestId}): ${problem}; writing it without its details`),
      );
      entries = r.entries;
      await this.stream.ackUsage(bucket, [...ids(batch.events), ...batch.malformed.map((m) => m.streamId)], [...batch.malformed, ...deadLettersOf(r.refused)]);
    } catch (e) {
      // Postgres went away half-way through an event-by-event pass: what was done is acknowledged,
      // so the next pass does not start the whole batch over.
      if (e instanceof PartialUsageWrite && (e.written.length || e.refused.length)) {
        await this.stream.ackUsage(bucket, [...ids(e.written), ...ids(e.refused.map((r) => r.event))], deadLettersOf(e.refused));
      }
      throw e instanceof PartialUsageWrite ? e.cause : e;
    }
    const spent = [...new Set(entries.map((e) => e.tenantId))];
    if (spent.length > 0) {
      for (const listener of this.listeners) {
        // The batch is committed whatever a listener does; its failure is its own.
        await listener(spent).catch((e: unknown) => this.logger.error(`after-batch listener failed: ${(e as Error).message}`));
      }
    }
    return batch.events.length;
  }

  /** A refused event's dead letter: its money fields only (no details, no stored prompt), and Postgres' reason. */
  private refusedLetter({ event: e, reason }: RefusedEvent): MalformedEntry {
    this.logger.error(`usage entry ${e.streamId} (${e.requestId}, tenant ${e.tenantId}, cost ${e.costMicros}) moved to the dead-letter stream: ${reason}`);
    const money = { requestId: e.requestId, tenantId: e.tenantId, keyId: e.keyId, costMicros: String(e.costMicros), byokFeeMicros: String(e.byokFeeMicros) };
    return { streamId: e.streamId, bucket: e.bucket, fields: money, reason };
  }
}

/** An event Postgres would not take, even without its details, and why. */
export interface RefusedEvent {
  event: UsageEvent;
  reason: string;
}

/** Postgres went away during an event-by-event pass; `written` and `refused` were done before. */
export class PartialUsageWrite extends Error {
  constructor(
    override readonly cause: unknown,
    readonly written: UsageEvent[],
    readonly refused: RefusedEvent[],
  ) {
    super((cause as Error).message);
  }
}

/**
 * `persistUsage`, and when Postgres refuses the batch for a row's content (SQLSTATE 22xxx, 23xxx)
 * instead of being away, the same one event at a time: one that is refused again is written
 * without its details (still charged, with an empty request log, like an entry whose details
 * cannot be read), and one refused even so (its tenant deleted, say) is answered in `refused`.
 * One such event would otherwise fail its whole batch on every pass. Postgres going away
 * half-way throws PartialUsageWrite with what was done; nothing is written twice when the rest
 * is tried again (unique keys).
 */
export async function persistUsageEventByEvent(
  prisma: PrismaService,
  ledger: LedgerRepository,
  logs: RequestLogRepository,
  events: readonly UsageEvent[],
  onStripped: (e: UsageEvent, problem: string) => void = () => undefined,
): Promise<{ entries: SettledEntryInput[]; inserted: number; refused: RefusedEvent[] }> {
  try {
    return { ...(await persistUsage(prisma, ledger, logs, events)), refused: [] };
  } catch (e) {
    if (!isRowProblem(e)) throw e;
  }
  const entries: SettledEntryInput[] = [];
  const refused: RefusedEvent[] = [];
  const written: UsageEvent[] = [];
  let inserted = 0;
  for (const e of events) {
    // Without its details, but on its own day: a charge written after an outage keeps its date.
    const bare: UsageEvent = { ...e, fields: e.fields.createdAtMs ? { createdAtMs: e.fields.createdAtMs } : {}, fieldsProblem: 'refused by Postgres' };
    let problem = '';
    for (const attempt of [e, bare]) {
      try {
        const r = await persistUsage(prisma, ledger, logs, [attempt]);
        entries.push(...r.entries);
        inserted += r.inserted;
        written.push(e);
        problem = '';
        break;
      } catch (err) {
        if (!isRowProblem(err)) throw new PartialUsageWrite(err, written, refused);
        problem = `Postgres refused it (${sqlStateOf(err)}): ${(err as Error).message.split('\n').pop()}`;
        if (attempt === e) onStripped(e, problem);
      }
    }
    if (problem) refused.push({ event: e, reason: problem });
  }
  return { entries, inserted, refused };
}

/** SQLSTATE of a statement Postgres refused (through Prisma's driver adapter), if it gave one. */
function sqlStateOf(e: unknown): string | undefined {
  const cause = (e as { meta?: { driverAdapterError?: { cause?: { originalCode?: string; code?: string } } } }).meta?.driverAdapterError?.cause;
  return cause?.originalCode ?? cause?.code;
}

/** Refused for what a row holds (data exception 22xxx, integrity 23xxx), not for Postgres being away. */
function isRowProblem(e: unknown): boolean {
  return /^2[23]/.test(sqlStateOf(e) ?? '');
}

/** When the request was settled; now when the event does not say, or says nonsense (a Date cannot hold it). */
function createdAtOf(e: UsageEvent): Date {
  const ms = Number(e.fields.createdAtMs);
  return new Date(Number.isFinite(ms) && ms > 0 && ms <= MAX_DATE_MS ? ms : Date.now());
}

/** The largest time a JavaScript Date holds (±100,000,000 days from 1970). */
const MAX_DATE_MS = 8.64e15;

/** An event's ledger entries: `usage:<request id>` for its cost, `byok_fee:<request id>` for its fee, when charged. */
export function settledEntriesOf(e: UsageEvent, createdAt = createdAtOf(e), card = cardOf(e)): SettledEntryInput[] {
  const out: SettledEntryInput[] = [];
  const description = chargeDescriptionOf(e, card);
  if (e.costMicros > 0n) {
    out.push({ tenantId: e.tenantId, kind: 'usage', amountMicros: -e.costMicros, idempotencyKey: `usage:${e.requestId}`, requestId: e.requestId, description, createdAt });
  }
  if (e.byokFeeMicros > 0n) {
    out.push({ tenantId: e.tenantId, kind: 'byok_fee', amountMicros: -e.byokFeeMicros, idempotencyKey: `byok_fee:${e.requestId}`, requestId: e.requestId, description, createdAt });
  }
  return out;
}

/** The rate card the event was charged at, or null (none, or not a valid one). */
function cardOf(e: UsageEvent): PriceCard | null {
  return priceCardFrom(jsonField<unknown>(e.fields.pricing));
}

/** The served model and its rate card in words, for the ledger; null for an event without a (valid) card. */
function chargeDescriptionOf(e: UsageEvent, card: PriceCard | null): string | null {
  const model = e.fields.servedModel ?? e.fields.requestedModel;
  return card && model ? priceCardText(model.replaceAll('\0', ''), card) : null;
}

/**
 * Writes usage events to Postgres in one transaction: per event its `usage:` (and `byok_fee:`)
 * ledger entries and its request log, each skipped if already there (unique keys). The drain
 * and the journal recovery write through here alike. Answers the entries and how many were new.
 */
export async function persistUsage(
  prisma: PrismaService,
  ledger: LedgerRepository,
  logs: RequestLogRepository,
  events: readonly UsageEvent[],
): Promise<{ entries: SettledEntryInput[]; inserted: number }> {
  const entries: SettledEntryInput[] = [];
  const rows: RequestLogInput[] = [];
  for (const e of events) {
    const createdAt = createdAtOf(e);
    const card = cardOf(e);
    entries.push(...settledEntriesOf(e, createdAt, card));
    rows.push(requestLogOf(e, createdAt, card));
  }
  const inserted = await prisma.$transaction(async (tx) => {
    const n = await ledger.insertSettled(entries, tx);
    await logs.insertMany(rows, tx);
    return n;
  });
  return { entries, inserted };
}

function merge(...batches: UsageBatch[]): UsageBatch {
  const seen = new Set<string>();
  const out: UsageBatch = { events: [], malformed: [] };
  for (const b of batches) {
    for (const e of b.events) {
      if (seen.has(e.streamId)) continue;
      seen.add(e.streamId);
      out.events.push(e);
    }
    for (const m of b.malformed) {
      if (seen.has(m.streamId)) continue;
      seen.add(m.streamId);
      out.malformed.push(m);
    }
  }
  return out;
}

const int = (v: string | undefined) => (v === undefined ? 0 : Number.parseInt(v, 10) || 0);
const float = (v: string | undefined) => (v === undefined ? null : Number(v));

/** A JSON event field; a malformed one is dropped rather than blocking the batch. */
function jsonField<T>(v: string | undefined): T | undefined {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as T;
  } catch {
    return undefined;
  }
}

function requestLogOf(e: UsageEvent, createdAt: Date, card: PriceCard | null): RequestLogInput {
  const f = e.fields;
  return {
    requestId: e.requestId,
    tenantId: e.tenantId,
    apiKeyId: e.keyId,
    endUser: f.endUser ?? null,
    requestedModel: f.requestedModel ?? '',
    servedModel: f.servedModel ?? null,
    provider: f.provider ?? null,
    endpoint: f.endpoint ?? 'chat.completions',
    stream: f.stream === '1',
    status: int(f.status),
    errorCode: f.errorCode ?? null,
    finishReason: f.finishReason ?? null,
    promptTokens: int(f.promptTokens),
    cachedTokens: int(f.cachedTokens),
    cacheWriteTokens: int(f.cacheWriteTokens),
    cacheWrite1hTokens: int(f.cacheWrite1hTokens),
    completionTokens: int(f.completionTokens),
    reasoningTokens: int(f.reasoningTokens),
    costMicros: e.costMicros,
    byokFeeMicros: e.byokFeeMicros,
    byok: f.byok === '1',
    estimated: f.estimated === '1',
    pricing: card ?? undefined,
    attempts: jsonField<object[]>(f.attempts) ?? [],
    routeDecisions: jsonField<string[]>(f.decisions) ?? [],
    // Present only for tenants that opted in to content logging (the gateway decides).
    content: jsonField<object>(f.content) ?? undefined,
    overheadMs: float(f.overheadMs),
    ttfbMs: float(f.ttfbMs),
    totalMs: float(f.totalMs),
    createdAt,
  };
}
