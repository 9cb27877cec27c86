import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode, microsToUsd } from '@gw/core';
import { UsageReportRepository, type RequestLogFilter, type TenantScope, type UsageDimension, type UsageGroup } from '@gw/db';
import type { UsageGroupView, UsageReportView, UsageSumsView } from './usage.dto';

export function sumsView(g: UsageGroup): UsageSumsView {
  const paid = g.costMicros + g.byokFeeMicros;
  const tokens = g.promptTokens + g.completionTokens;
  return {
    requests: g.requests,
    errors: g.errors,
    prompt_tokens: Number(g.promptTokens),
    cached_tokens: Number(g.cachedTokens),
    completion_tokens: Number(g.completionTokens),
    reasoning_tokens: Number(g.reasoningTokens),
    total_tokens: Number(tokens),
    cost: microsToUsd(g.costMicros),
    byok_fee: microsToUsd(g.byokFeeMicros),
    total_cost: microsToUsd(paid),
    total_cost_micros: paid.toString(),
    // micros per token is exactly USD per million tokens.
    cost_per_million_tokens: tokens === 0n ? null : Math.round((Number(paid) / Number(tokens)) * 1e6) / 1e6,
    avg_latency_ms: g.avgTotalMs === null ? null : Math.round(g.avgTotalMs * 1000) / 1000,
    avg_time_to_first_byte_ms: g.avgTtfbMs === null ? null : Math.round(g.avgTtfbMs * 1000) / 1000,
  };
}

function groupView(g: UsageGroup): UsageGroupView {
  const keys: Record<string, string | null> = {};
  // '' is how SQL grouped "none" (no provider, key or user): null in JSON.
  for (const [d, v] of Object.entries(g.keys)) keys[d] = d === 'day' || d === 'model' ? v : v === '' ? null : v;
  return { ...keys, ...sumsView(g) };
}

/** Spend analytics: what a tenant spent and used, grouped, with the price per million tokens it really paid. */
@Injectable()
export class UsageService {
  constructor(private readonly repo: UsageReportRepository) {}

  async report(scope: TenantScope, filter: RequestLogFilter & { from: Date }, groupBy: string | undefined, page: { limit: number; cursor?: string }): Promise<UsageReportView> {
    const dims = (groupBy ?? 'model').split(',') as UsageDimension[];
    if (new Set(dims).size !== dims.length) throw new DomainError(ErrorCode.InvalidBody, 'group_by names a dimension twice', { param: 'group_by' });
    const [groups, totals] = await Promise.all([this.repo.groups(scope, filter, dims, page), this.repo.totals(scope, filter)]);
    return {
      data: groups.rows.map(groupView),
      next_cursor: groups.nextCursor,
      group_by: dims,
      from: filter.from.toISOString(),
      to: filter.to?.toISOString() ?? null,
      totals: sumsView(totals),
    };
  }
}
