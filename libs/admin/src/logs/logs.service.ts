import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode, microsToUsd } from '@gw/core';
import { RequestLogQueryRepository, type Prisma, type PageRequest, type RequestLogFilter, type RequestLogSummary, type TenantScope } from '@gw/db';
import { listOf, type ListResponse } from '../common/pagination.dto';
import type { RequestLogDetailView, RequestLogView } from './logs.dto';

type LogRow = Omit<Prisma.RequestLogGetPayload<object>, 'content'>;

/** The fields GET /v1/generation answers, under the same names, so a record reads the same on both planes. */
export function requestLogView(log: LogRow, contentStored: boolean): RequestLogView {
  return {
    id: log.requestId,
    requested_model: log.requestedModel,
    model: log.servedModel,
    provider: log.provider,
    endpoint: log.endpoint,
    streamed: log.stream,
    status: log.status,
    error_code: log.errorCode,
    finish_reason: log.finishReason,
    attempts: log.attempts as unknown as RequestLogView['attempts'],
    routing: log.routeDecisions,
    tokens_prompt: log.promptTokens,
    tokens_cached: log.cachedTokens,
    tokens_cache_write: log.cacheWriteTokens,
    tokens_completion: log.completionTokens,
    tokens_reasoning: log.reasoningTokens,
    usage: microsToUsd(log.costMicros + log.byokFeeMicros),
    cost: microsToUsd(log.costMicros),
    byok_fee: microsToUsd(log.byokFeeMicros),
    byok: log.byok,
    estimated: log.estimated,
    user: log.endUser,
    api_key_id: log.apiKeyId,
    latency: { gateway_overhead_ms: log.overheadMs, time_to_first_byte_ms: log.ttfbMs, total_ms: log.totalMs },
    created_at: log.createdAt.toISOString(),
    content_stored: contentStored,
  };
}

const notFound = () => new DomainError(ErrorCode.NotFound, 'No request log with this id (records appear within a second or two)', { param: 'id' });

/** A tenant's request logs: filtered pages, one record with its content, deletion. */
@Injectable()
export class LogsService {
  constructor(private readonly logs: RequestLogQueryRepository) {}

  async list(scope: TenantScope, filter: RequestLogFilter, page: PageRequest): Promise<ListResponse<RequestLogView>> {
    return listOf(await this.logs.page(scope, filter, page), (r: RequestLogSummary) => requestLogView(r, r.hasContent));
  }

  async get(scope: TenantScope, id: string): Promise<RequestLogDetailView> {
    const log = await this.logs.get(scope, id);
    if (!log) throw notFound();
    const { content, ...rest } = log;
    return { ...requestLogView(rest, content !== null), content };
  }

  async deleteOne(scope: TenantScope, id: string): Promise<{ id: string; deleted: boolean }> {
    if (!(await this.logs.deleteOne(scope, id))) throw notFound();
    return { id, deleted: true };
  }

  async deleteMatching(scope: TenantScope, filter: RequestLogFilter, contentOnly: boolean): Promise<{ deleted: number }> {
    return { deleted: await this.logs.deleteMatching(scope, filter, { contentOnly }) };
  }
}
