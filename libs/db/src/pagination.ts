import { DomainError, ErrorCode } from '@gw/core';

/**
 * Keyset pagination shared by every list of the admin API: newest first by (created_at, id),
 * with an opaque cursor naming the last row served. Unlike offset paging it is stable while rows
 * are inserted, and unlike Prisma's `cursor` it never depends on the cursor row still being
 * visible (a cursor from another tenant simply yields that tenant's nothing).
 */
export interface PageRequest {
  /** 1..100, validated at the edge. */
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  rows: T[];
  nextCursor: string | null;
}

interface CursorKey {
  createdAt: Date;
  id: string;
}

export function encodeCursor(row: CursorKey): string {
  return Buffer.from(JSON.stringify([row.createdAt.getTime(), row.id])).toString('base64url');
}

/** The (created_at, id) a cursor names; a malformed cursor is the client's 400, naming `cursor`. */
export function decodeCursor(cursor: string): CursorKey {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof ms === 'number' && Number.isSafeInteger(ms) && typeof id === 'string' && id.length > 0 && id.length <= 100) {
      return { createdAt: new Date(ms), id };
    }
  } catch {
    // fall through to the 400
  }
  throw new DomainError(ErrorCode.InvalidBody, 'cursor is not a cursor this API returned', { param: 'cursor' });
}

/** The `where` fragment selecting rows strictly after the cursor in (created_at desc, id desc) order. */
export function afterCursor(cursor: string | undefined): { OR?: Array<Record<string, unknown>> } {
  if (!cursor) return {};
  const c = decodeCursor(cursor);
  return { OR: [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }] };
}

export const NEWEST_FIRST = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];

/** Rows fetched with `take: limit + 1` become a page and the cursor of its last row. */
export function toPage<T extends CursorKey>(rows: T[], limit: number): Page<T> {
  return pageOf(rows, limit, encodeCursor);
}

/** `toPage` for any order: `cursorOf` names the last row served. */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { rows: page, nextCursor: more ? cursorOf(page[page.length - 1]!) : null };
}

/** Cursors of lists ordered by id alone, ascending (the model catalog, listed alphabetically). */
export function encodeIdCursor(id: string): string {
  return Buffer.from(JSON.stringify(['id', id])).toString('base64url');
}

export function decodeIdCursor(cursor: string): string {
  try {
    const [kind, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (kind === 'id' && typeof id === 'string' && id.length > 0 && id.length <= 300) return id;
  } catch {
    // fall through to the 400
  }
  throw new DomainError(ErrorCode.InvalidBody, 'cursor is not a cursor this API returned', { param: 'cursor' });
}
