import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { Prisma } from '../generated/prisma/client';
import type { RequestLogFilter } from './request-log-query.repository';

export const USAGE_DIMENSIONS = ['model', 'provider', 'key', 'user', 'day'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

/**
 * SQL of each dimension. Missing values group as '' (row comparisons in the keyset need non-null
 * keys); a request that was never served groups under the model it asked for. Days are UTC.
 */
const DIMENSION_SQL: Record<UsageDimension, Prisma.Sql> = {
  model: Prisma.sql`COALESCE(served_model, requested_model)`,
  provider: Prisma.sql`COALESCE(provider, '')`,
  key: Prisma.sql`COALESCE(api_key_id, '')`,
  user: Prisma.sql`COALESCE(end_user, '')`,
  day: Prisma.sql`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

/** One group of the report; money in micros, keys as grouped ('' for none). */
export interface UsageGroup {
  keys: Partial<Record<UsageDimension, string>>;
  requests: number;
  errors: number;
  promptTokens: bigint;
  cachedTokens: bigint;
  completionTokens: bigint;
  reasoningTokens: bigint;
  costMicros: bigint;
  byokFeeMicros: bigint;
  avgTotalMs: number | null;
  avgTtfbMs: number | null;
}

interface Row {
  requests: number;
  errors: number;
  prompt_tokens: bigint;
  cached_tokens: bigint;
  completion_tokens: bigint;
  reasoning_tokens: bigint;
  cost_micros: bigint;
  byok_fee_micros: bigint;
  paid_micros: bigint;
  avg_total_ms: number | null;
  avg_ttfb_ms: number | null;
  [dim: string]: unknown;
}

interface SortColumn {
  sql: Prisma.Sql;
  desc: boolean;
  kind: 'text' | 'bigint';
}

/**
 * Spend analytics over request logs: sums per group of model, provider, key, end user and UTC day,
 * paged by keyset. Groups come most expensive first, except that a report by day runs in date order.
 */
@Injectable()
export class UsageReportRepository {
  constructor(private readonly prisma: PrismaService) {}

  async groups(scope: TenantScope, filter: RequestLogFilter, dims: UsageDimension[], page: { limit: number; cursor?: string }): Promise<{ rows: UsageGroup[]; nextCursor: string | null }> {
    const sort = sortOf(dims);
    const after = page.cursor === undefined ? Prisma.empty : Prisma.sql`WHERE ${keysetAfter(sort, decodeUsageCursor(page.cursor, sort))}`;
    const grouped = dims.length ? Prisma.sql`GROUP BY ${Prisma.join(dims.map((_d, i) => Prisma.raw(`d${i}`)))}` : Prisma.empty;
    const keys = dims.map((d, i) => Prisma.sql`${DIMENSION_SQL[d]} AS ${Prisma.raw(`d${i}`)}`);
    const rows = await this.prisma.$queryRaw<Row[]>`
      SELECT * FROM (
        SELECT ${Prisma.join([...keys, AGGREGATES])}
        FROM request_logs WHERE ${filterSql(scope, filter)}
        ${grouped}
      ) g
      ${after}
      ORDER BY ${Prisma.join(sort.map((s) => Prisma.sql`${s.sql} ${Prisma.raw(s.desc ? 'DESC' : 'ASC')}`))}
      LIMIT ${page.limit + 1}`;
    const more = rows.length > page.limit;
    const pageRows = more ? rows.slice(0, page.limit) : rows;
    const last = pageRows[pageRows.length - 1];
    return {
      rows: pageRows.filter((r) => r.requests > 0).map((r) => groupOf(r, dims)),
      nextCursor: more && last ? encodeUsageCursor(sort.map((_s, i) => String(sortValue(last, dims, i)))) : null,
    };
  }

  /** The same sums over the whole range, ungrouped. */
  async totals(scope: TenantScope, filter: RequestLogFilter): Promise<UsageGroup> {
    const [row] = await this.prisma.$queryRaw<Row[]>`SELECT ${AGGREGATES} FROM request_logs WHERE ${filterSql(scope, filter)}`;
    return groupOf(row!, []);
  }
}

const AGGREGATES = Prisma.sql`
  count(*)::int AS requests,
  (count(*) FILTER (WHERE status >= 400))::int AS errors,
  COALESCE(SUM(prompt_tokens), 0)::bigint AS prompt_tokens,
  COALESCE(SUM(cached_tokens), 0)::bigint AS cached_tokens,
  COALESCE(SUM(completion_tokens), 0)::bigint AS completion_tokens,
  COALESCE(SUM(reasoning_tokens), 0)::bigint AS reasoning_tokens,
  COALESCE(SUM(cost_micros), 0)::bigint AS cost_micros,
  COALESCE(SUM(byok_fee_micros), 0)::bigint AS byok_fee_micros,
  COALESCE(SUM(cost_micros + byok_fee_micros), 0)::bigint AS paid_micros,
  AVG(total_ms) AS avg_total_ms,
  AVG(ttfb_ms) AS avg_ttfb_ms`;

/** The filter as SQL (the Prisma `where` of request-log-query.repository.ts, for raw aggregation). */
function filterSql(scope: TenantScope, f: RequestLogFilter): Prisma.Sql {
  const c: Prisma.Sql[] = [Prisma.sql`tenant_id = ${scope.tenantId}`];
  if (f.from) c.push(Prisma.sql`created_at >= ${f.from}`);
  if (f.to) c.push(Prisma.sql`created_at < ${f.to}`);
  if (f.model) c.push(Prisma.sql`(requested_model = ${f.model} OR served_model = ${f.model})`);
  if (f.provider) c.push(Prisma.sql`provider = ${f.provider}`);
  if (f.apiKeyId) c.push(Prisma.sql`api_key_id = ${f.apiKeyId}`);
  if (f.status) c.push(Prisma.sql`status BETWEEN ${f.status.min} AND ${f.status.max}`);
  if (f.endUser) c.push(Prisma.sql`end_user = ${f.endUser}`);
  if (f.errorCode) c.push(Prisma.sql`error_code = ${f.errorCode}`);
  return Prisma.join(c, ' AND ');
}

function sortOf(dims: UsageDimension[]): SortColumn[] {
  const col = (d: UsageDimension): SortColumn => ({ sql: Prisma.raw(`g.d${dims.indexOf(d)}`), desc: false, kind: 'text' });
  const paid: SortColumn = { sql: Prisma.raw('g.paid_micros'), desc: true, kind: 'bigint' };
  const others = dims.filter((d) => d !== 'day').map(col);
  return dims.includes('day') ? [col('day'), paid, ...others] : [paid, ...others];
}

/** The value of sort column i in a row, in the same order as sortOf. */
function sortValue(row: Row, dims: UsageDimension[], i: number): unknown {
  const order = dims.includes('day') ? ['day', 'paid', ...dims.filter((d) => d !== 'day')] : ['paid', ...dims];
  const name = order[i]!;
  return name === 'paid' ? row.paid_micros : row[`d${dims.indexOf(name as UsageDimension)}`];
}

/** Rows strictly after the cursor in the sort order: (a, b, c) > (x, y, z) spelled out per direction. */
function keysetAfter(sort: SortColumn[], values: string[]): Prisma.Sql {
  const typed = (s: SortColumn, v: string) => (s.kind === 'bigint' ? BigInt(v) : v);
  const branches = sort.map((s, i) => {
    const equal = sort.slice(0, i).map((p, j) => Prisma.sql`${p.sql} = ${typed(p, values[j]!)}`);
    const beyond = Prisma.sql`${s.sql} ${Prisma.raw(s.desc ? '<' : '>')} ${typed(s, values[i]!)}`;
    return Prisma.sql`(${Prisma.join([...equal, beyond], ' AND ')})`;
  });
  return Prisma.sql`(${Prisma.join(branches, ' OR ')})`;
}

function encodeUsageCursor(values: string[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeUsageCursor(cursor: string, sort: SortColumn[]): string[] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === sort.length && v.every((x, i) => typeof x === 'string' && x.length <= 1024 && (sort[i]!.kind !== 'bigint' || /^-?\d{1,19}$/.test(x)))) {
      return v as string[];
    }
  } catch {
    // fall through to the 400
  }
  throw new DomainError(ErrorCode.InvalidBody, 'cursor is not a cursor this API returned (for this group_by)', { param: 'cursor' });
}

function groupOf(r: Row, dims: UsageDimension[]): UsageGroup {
  return {
    keys: Object.fromEntries(dims.map((d, i) => [d, String(r[`d${i}`] ?? '')])),
    requests: r.requests,
    errors: r.errors,
    promptTokens: r.prompt_tokens,
    cachedTokens: r.cached_tokens,
    completionTokens: r.completion_tokens,
    reasoningTokens: r.reasoning_tokens,
    costMicros: r.cost_micros,
    byokFeeMicros: r.byok_fee_micros,
    avgTotalMs: r.avg_total_ms === null ? null : Number(r.avg_total_ms),
    avgTtfbMs: r.avg_ttfb_ms === null ? null : Number(r.avg_ttfb_ms),
  };
}
