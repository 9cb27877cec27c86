import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { Prisma } from '../generated/prisma/client';
import { decodeCursor, encodeCursor, type Page, type PageRequest } from '../pagination';

/** Which request logs a tenant asks for (every field optional; all given ones must match). */
export interface RequestLogFilter {
  /** created_at >= from */
  from?: Date;
  /** created_at < to */
  to?: Date;
  /** The requested or the served model (a fallback's request matches both). */
  model?: string;
  /** The provider that served the request. */
  provider?: string;
  apiKeyId?: string;
  /** Inclusive status bounds: one code (min = max) or a class (400..499). */
  status?: { min: number; max: number };
  endUser?: string;
  errorCode?: string;
}

/** A request log without its content (lists never carry prompts), with whether content is stored. */
export type RequestLogSummary = Omit<Prisma.RequestLogGetPayload<object>, 'content'> & { hasContent: boolean };

const BATCH = 5_000;

/** `where` of a tenant's logs matching a filter; shared by listing, deleting and the usage report. */
export function requestLogWhere(scope: TenantScope, f: RequestLogFilter): Prisma.RequestLogWhereInput {
  const and: Prisma.RequestLogWhereInput[] = [{ tenantId: scope.tenantId }];
  if (f.from || f.to) and.push({ createdAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } });
  if (f.model) and.push({ OR: [{ requestedModel: f.model }, { servedModel: f.model }] });
  if (f.provider) and.push({ provider: f.provider });
  if (f.apiKeyId) and.push({ apiKeyId: f.apiKeyId });
  if (f.status) and.push({ status: { gte: f.status.min, lte: f.status.max } });
  if (f.endUser) and.push({ endUser: f.endUser });
  if (f.errorCode) and.push({ errorCode: f.errorCode });
  return { AND: and };
}

/**
 * The tenant's side of request logs (written in batches by the billing worker's usage drain):
 * filtered keyset pages newest first, one record with its content, and deletion. Request logs
 * are keyed by request id, so cursors name (created_at, request_id).
 */
@Injectable()
export class RequestLogQueryRepository {
  constructor(private readonly prisma: PrismaService) {}

  async page(scope: TenantScope, filter: RequestLogFilter, req: PageRequest): Promise<Page<RequestLogSummary>> {
    const after = req.cursor ? decodeCursor(req.cursor) : undefined;
    const where: Prisma.RequestLogWhereInput = after
      ? { AND: [requestLogWhere(scope, filter), { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, requestId: { lt: after.id } }] }] }
      : requestLogWhere(scope, filter);
    const rows = await this.prisma.requestLog.findMany({
      where,
      omit: { content: true },
      orderBy: [{ createdAt: 'desc' }, { requestId: 'desc' }],
      take: req.limit + 1,
    });
    const more = rows.length > req.limit;
    const page = more ? rows.slice(0, req.limit) : rows;
    // Content can be megabytes per row: a second, id-only query says which rows have it.
    const ids = page.map((r) => r.requestId);
    const withContent = ids.length
      ? await this.prisma.requestLog.findMany({ where: { tenantId: scope.tenantId, requestId: { in: ids }, content: { not: Prisma.DbNull } }, select: { requestId: true } })
      : [];
    const has = new Set(withContent.map((r) => r.requestId));
    const last = page[page.length - 1];
    return {
      rows: page.map((r) => ({ ...r, hasContent: has.has(r.requestId) })),
      nextCursor: more && last ? encodeCursor({ createdAt: last.createdAt, id: last.requestId }) : null,
    };
  }

  /** One record, content included. */
  get(scope: TenantScope, requestId: string) {
    return this.prisma.requestLog.findFirst({ where: { requestId, tenantId: scope.tenantId } });
  }

  async deleteOne(scope: TenantScope, requestId: string): Promise<boolean> {
    return (await this.prisma.requestLog.deleteMany({ where: { requestId, tenantId: scope.tenantId } })).count === 1;
  }

  /**
   * Deletes the matching logs (or, with `contentOnly`, only their stored prompts and completions),
   * in batches so a tenant with millions of rows never holds one long transaction.
   */
  async deleteMatching(scope: TenantScope, filter: RequestLogFilter, opts: { contentOnly: boolean }): Promise<number> {
    const where = opts.contentOnly ? { AND: [requestLogWhere(scope, filter), { content: { not: Prisma.DbNull } }] } : requestLogWhere(scope, filter);
    let total = 0;
    for (;;) {
      const ids = (await this.prisma.requestLog.findMany({ where, select: { requestId: true }, take: BATCH })).map((r) => r.requestId);
      if (ids.length === 0) return total;
      const batch = { tenantId: scope.tenantId, requestId: { in: ids } };
      total += opts.contentOnly
        ? (await this.prisma.requestLog.updateMany({ where: batch, data: { content: Prisma.DbNull } })).count
        : (await this.prisma.requestLog.deleteMany({ where: batch })).count;
      if (ids.length < BATCH) return total;
    }
  }
}
