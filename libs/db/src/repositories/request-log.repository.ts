import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { pgJson, pgText } from '../postgres-values';
import { TenantScope } from '../tenant-scope';
import { Prisma } from '../generated/prisma/client';

/** One request log as the billing worker writes it (the usage event, decoded). */
export interface RequestLogInput {
  requestId: string;
  tenantId: string;
  apiKeyId: string | null;
  endUser: string | null;
  requestedModel: string;
  servedModel: string | null;
  provider: string | null;
  endpoint: string;
  stream: boolean;
  status: number;
  errorCode: string | null;
  finishReason: string | null;
  promptTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  costMicros: bigint;
  byokFeeMicros: bigint;
  byok: boolean;
  estimated: boolean;
  /** The rate card of the charge (`PriceCard`), when something was charged. */
  pricing?: object;
  attempts: object[];
  routeDecisions: string[];
  /** Only for tenants that opted in to content logging. */
  content?: object;
  overheadMs: number | null;
  ttfbMs: number | null;
  totalMs: number | null;
  createdAt: Date;
}

/** An end user id or stored prompt may carry what Postgres refuses (postgres-values). */
const text = (s: string | null): string | null => (s === null ? null : pgText(s));

@Injectable()
export class RequestLogRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Batched insert, one statement over column arrays (`unnest`): Prisma's createMany spent ~0.5 ms
   * of CPU per row here, this ~15 µs. A re-delivered batch is skipped by the request id key.
   */
  async insertMany(rows: RequestLogInput[], tx: Prisma.TransactionClient = this.prisma): Promise<number> {
    if (rows.length === 0) return 0;
    const col = <T>(f: (r: RequestLogInput) => T): T[] => rows.map(f);
    return tx.$executeRaw`
      INSERT INTO request_logs (request_id, tenant_id, api_key_id, end_user, requested_model, served_model, provider, endpoint,
        stream, status, error_code, finish_reason, prompt_tokens, cached_tokens, cache_write_tokens, cache_write_1h_tokens, completion_tokens,
        reasoning_tokens, cost_micros, byok_fee_micros, byok, estimated, pricing, attempts, route_decisions, overhead_ms, ttfb_ms,
        total_ms, content, created_at)
      SELECT request_id, tenant_id, api_key_id, end_user, requested_model, served_model, provider, endpoint,
        stream, status, error_code, finish_reason, prompt_tokens, cached_tokens, cache_write_tokens, cache_write_1h_tokens, completion_tokens,
        reasoning_tokens, cost_micros, byok_fee_micros, byok, estimated, pricing::jsonb, attempts::jsonb,
        ARRAY(SELECT jsonb_array_elements_text(route_decisions::jsonb)), overhead_ms, ttfb_ms,
        total_ms, content::jsonb, created_at
      FROM unnest(
        ${col((r) => r.requestId)}::text[], ${col((r) => r.tenantId)}::text[], ${col((r) => text(r.apiKeyId))}::text[],
        ${col((r) => text(r.endUser))}::text[], ${col((r) => pgText(r.requestedModel))}::text[], ${col((r) => text(r.servedModel))}::text[],
        ${col((r) => text(r.provider))}::text[], ${col((r) => pgText(r.endpoint))}::text[], ${col((r) => r.stream)}::boolean[],
        ${col((r) => r.status)}::int[], ${col((r) => text(r.errorCode))}::text[], ${col((r) => text(r.finishReason))}::text[],
        ${col((r) => r.promptTokens)}::int[], ${col((r) => r.cachedTokens)}::int[], ${col((r) => r.cacheWriteTokens)}::int[],
        ${col((r) => r.cacheWrite1hTokens)}::int[], ${col((r) => r.completionTokens)}::int[], ${col((r) => r.reasoningTokens)}::int[],
        ${col((r) => r.costMicros.toString())}::bigint[], ${col((r) => r.byokFeeMicros.toString())}::bigint[],
        ${col((r) => r.byok)}::boolean[], ${col((r) => r.estimated)}::boolean[],
        ${col((r) => (r.pricing === undefined ? null : pgJson(r.pricing)))}::text[],
        ${col((r) => pgJson(r.attempts))}::text[], ${col((r) => pgJson(r.routeDecisions))}::text[],
        ${col((r) => r.overheadMs)}::float8[], ${col((r) => r.ttfbMs)}::float8[], ${col((r) => r.totalMs)}::float8[],
        ${col((r) => (r.content === undefined ? null : pgJson(r.content)))}::text[], ${col((r) => r.createdAt.toISOString())}::timestamptz[]
      ) AS t(request_id, tenant_id, api_key_id, end_user, requested_model, served_model, provider, endpoint,
        stream, status, error_code, finish_reason, prompt_tokens, cached_tokens, cache_write_tokens, cache_write_1h_tokens, completion_tokens,
        reasoning_tokens, cost_micros, byok_fee_micros, byok, estimated, pricing, attempts, route_decisions, overhead_ms, ttfb_ms,
        total_ms, content, created_at)
      ON CONFLICT (request_id) DO NOTHING`;
  }

  get(scope: TenantScope, requestId: string) {
    return this.prisma.requestLog.findFirst({ where: { requestId, tenantId: scope.tenantId } });
  }
}
