import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '@gw/core';
import { RequestLogQueryRepository, type PageRequest, type RequestLogFilter, type RequestLogSummary, type TenantScope } from '@gw/db';
import { requestLogView, type RequestLogRecord } from '@gw/observability';
import { listOf, type ListResponse } from '../common/pagination.dto';
import type { RequestLogDetailView, RequestLogView } from './logs.dto';

/** GET /v1/generation's fields (one shared mapping), plus whether content is stored. */
function logView(log: RequestLogRecord, contentStored: boolean): RequestLogView {
  return { ...requestLogView(log), content_stored: contentStored };
}

const notFound = () => new DomainError(ErrorCode.NotFound, 'No request log with this id (records appear within a second or two)', { param: 'id' });

/** A tenant's request logs: filtered pages, one record with its content, deletion. */
@Injectable()
export class LogsService {
  constructor(private readonly logs: RequestLogQueryRepository) {}

  async list(scope: TenantScope, filter: RequestLogFilter, page: PageRequest): Promise<ListResponse<RequestLogView>> {
    return listOf(await this.logs.page(scope, filter, page), (r: RequestLogSummary) => logView(r, r.hasContent));
  }

  async get(scope: TenantScope, id: string): Promise<RequestLogDetailView> {
    const log = await this.logs.get(scope, id);
    if (!log) throw notFound();
    const { content, ...rest } = log;
    return { ...logView(rest, content !== null), content };
  }

  async deleteOne(scope: TenantScope, id: string): Promise<{ id: string; deleted: boolean }> {
    if (!(await this.logs.deleteOne(scope, id))) throw notFound();
    return { id, deleted: true };
  }

  async deleteMatching(scope: TenantScope, filter: RequestLogFilter, contentOnly: boolean): Promise<{ deleted: number }> {
    return { deleted: await this.logs.deleteMatching(scope, filter, { contentOnly }) };
  }
}
