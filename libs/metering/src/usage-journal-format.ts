import { parseEvent, type UsageEvent } from './usage-stream';

/**
 * The usage journal's format, shared by the gateways that write it and `npm run usage:recover`
 * that reads it: one JSON line per charged request, with the fields of its usage stream entry
 * (the event's details as an object rather than as JSON text), in hourly files per process.
 */

/** `usage-<YYYYMMDDHH UTC>-<host>-<pid>-<start>.jsonl`; the capture is the hour. */
export const JOURNAL_FILE = /^usage-(\d{10})-.+\.jsonl$/;

/** `YYYYMMDDHH` (UTC) of a time: the hour a journal file holds. */
export function journalHourOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13).replace(/[-T]/g, '');
}

/** One charged request, as settle sends it. */
export interface JournalEntry {
  requestId: string;
  tenantId: string;
  keyId: string;
  costMicros: bigint;
  byokFeeMicros: bigint;
  /** The event's details. */
  event: Record<string, string>;
}

/**
 * An entry's journal line. A tenant's stored prompt and completion (content logging) stay out:
 * the journal is about money, and its files outlive a short retention of the tenant's logs.
 */
export function journalLineOf(e: JournalEntry): string {
  const { content: _content, ...event } = e.event;
  return JSON.stringify({
    requestId: e.requestId,
    tenantId: e.tenantId,
    keyId: e.keyId,
    costMicros: e.costMicros.toString(),
    byokFeeMicros: e.byokFeeMicros.toString(),
    event,
  });
}

/** A journal line read back as a usage event (like a stream entry's), or why it cannot be charged. */
export function eventOfJournalLine(line: string, origin: string): UsageEvent | string {
  let all: unknown;
  try {
    all = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (all === null || typeof all !== 'object') return 'not an object';
  const fields = all as Record<string, unknown>;
  // The stream keeps the event's details as JSON text.
  if (fields.event !== null && typeof fields.event === 'object') fields.event = JSON.stringify(fields.event);
  return parseEvent(origin, -1, fields as Record<string, string>);
}
