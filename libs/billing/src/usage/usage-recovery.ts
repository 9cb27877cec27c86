import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LedgerRepository, PrismaService, RequestLogRepository } from '@gw/db';
import { eventOfJournalLine, JOURNAL_FILE, journalHourOf, type UsageEvent } from '@gw/metering';
import { persistUsageEventByEvent, settledEntriesOf } from './usage-writer.service';

const BATCH = 500;

export interface UsageRecoveryOptions {
  /** Write what the ledger lacks (otherwise only report it). */
  apply: boolean;
  /**
   * Entries younger than this are left alone: the billing worker may still be writing them from
   * the usage streams (it drains every second). Default 10 minutes.
   */
  minAgeMs?: number;
  /** Only entries created at or after this time (ms), and only the files of its hour and later. */
  sinceMs?: number;
  now?: number;
}

export interface UsageRecoveryReport {
  files: number;
  lines: number;
  /** Charge entries read (a request journaled twice counts twice). */
  entries: number;
  unreadable: number;
  tooRecent: number;
  /** Entries whose charges the ledger already holds. */
  inLedger: number;
  /** Entries older than `since`. */
  skipped: number;
  /** Distinct requests with a charge the ledger lacks, in total and per tenant (micros). */
  missing: { requests: number; costMicros: bigint; byokFeeMicros: bigint; byTenant: Record<string, { requests: number; micros: bigint }> };
  /** Ledger entries written (0 without `apply`). */
  written: number;
  /** Requests Postgres refused even without their details (their tenant deleted, say), with why. */
  refused: { requestId: string; tenantId: string; reason: string }[];
}

/** The journal files under a directory (or the files named), oldest first. */
export async function journalFiles(paths: readonly string[], sinceMs?: number): Promise<string[]> {
  // A file holds one hour (UTC) of entries, named by it: older hours are not even opened.
  const sinceHour = sinceMs === undefined ? '' : journalHourOf(sinceMs);
  const out: string[] = [];
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) {
      for (const name of (await readdir(p)).sort()) {
        const hour = JOURNAL_FILE.exec(name)?.[1];
        if (hour !== undefined && hour >= sinceHour) out.push(join(p, name));
      }
    } else out.push(p);
  }
  return out;
}

/**
 * Reads gateway usage journals and writes to the ledger every charge it lacks (reliability T57):
 * usage that Redis lost before the billing worker wrote it. Each event goes through the drain's
 * own write (`usage:` and `byok_fee:` entries and the request log, unique keys), so a run twice,
 * or a run racing the drain, writes each charge once. Redis learns the corrected balance from
 * the reconciliation job (it repairs a drift once nothing is pending).
 */
export async function recoverUsage(
  paths: readonly string[],
  db: { prisma: PrismaService; ledger: LedgerRepository; logs: RequestLogRepository },
  opts: UsageRecoveryOptions,
): Promise<UsageRecoveryReport> {
  const now = opts.now ?? Date.now();
  const minAgeMs = opts.minAgeMs ?? 10 * 60_000;
  const files = await journalFiles(paths, opts.sinceMs);
  const report: UsageRecoveryReport = {
    files: files.length,
    lines: 0,
    entries: 0,
    unreadable: 0,
    tooRecent: 0,
    inLedger: 0,
    skipped: 0,
    missing: { requests: 0, costMicros: 0n, byokFeeMicros: 0n, byTenant: {} },
    written: 0,
    refused: [],
  };
  // Memory stays bounded by what is missing, not by the journal: entries the ledger holds need
  // no de-duplication, and a missing request is counted (and written) once.
  const missing = new Set<string>();
  let pending: UsageEvent[] = [];
  const settle = async () => {
    const batch = pending;
    pending = [];
    const keysOf = (e: UsageEvent) => settledEntriesOf(e).map((entry) => entry.idempotencyKey);
    const present = await db.ledger.existingKeys(batch.flatMap(keysOf));
    const lacking: UsageEvent[] = [];
    for (const e of batch) {
      if (keysOf(e).every((k) => present.has(k))) {
        report.inLedger++;
        continue;
      }
      if (missing.has(e.requestId)) continue;
      missing.add(e.requestId);
      lacking.push(e);
      report.missing.requests++;
      report.missing.costMicros += e.costMicros;
      report.missing.byokFeeMicros += e.byokFeeMicros;
      const t = (report.missing.byTenant[e.tenantId] ??= { requests: 0, micros: 0n });
      t.requests++;
      t.micros += e.costMicros + e.byokFeeMicros;
    }
    if (opts.apply && lacking.length > 0) {
      // One request Postgres refuses (its tenant deleted) must not stop the others being written.
      const r = await persistUsageEventByEvent(db.prisma, db.ledger, db.logs, lacking);
      report.written += r.inserted;
      for (const { event, reason } of r.refused) report.refused.push({ requestId: event.requestId, tenantId: event.tenantId, reason });
    }
  };
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      report.lines++;
      const e = eventOfJournalLine(line, `journal:${file}:${report.lines}`);
      // A line cut by a crash mid-write is the only expected kind; it cannot be charged.
      if (typeof e === 'string') {
        report.unreadable++;
        continue;
      }
      report.entries++;
      const at = Number(e.fields.createdAtMs);
      if (opts.sinceMs !== undefined && at < opts.sinceMs) {
        report.skipped++;
        continue;
      }
      // An entry without its time (details unreadable) is old enough: the gateway always writes one.
      if (at > now - minAgeMs) {
        report.tooRecent++;
        continue;
      }
      pending.push(e);
      if (pending.length >= BATCH) await settle();
    }
  }
  if (pending.length > 0) await settle();
  return report;
}
