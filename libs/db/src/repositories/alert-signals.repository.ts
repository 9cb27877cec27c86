import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';

/**
 * Attempt errors that say something about a model's or provider's health: the upstream failed,
 * timed out, refused with a rate limit or sent garbage. A 400 for the tenant's own bad request
 * is not the provider's error.
 */
export const UPSTREAM_FAILURE_CODES = [
  'upstream_error',
  'upstream_timeout',
  'upstream_unavailable',
  'upstream_rate_limited',
  'upstream_bad_response',
  'stream_incomplete',
  'stream_idle_timeout',
  'internal_error',
] as const;

export interface AttemptErrors {
  attempts: number;
  failed: number;
}

/** What alert rules measure, read from Postgres (ledger and request logs, on their (tenant_id, created_at) indexes). */
@Injectable()
export class AlertSignalsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Micros charged (usage and BYOK fees, net of reversals) for requests since `since`, from the
   * ledger: request logs may be deleted by the tenant or expire before a month is out, the money's
   * record never is. A usage entry carries its request's time.
   */
  async spendSince(scope: TenantScope, since: Date): Promise<bigint> {
    const [row] = await this.prisma.$queryRaw<{ spent: bigint }[]>`
      SELECT (-COALESCE(SUM(amount_micros), 0))::bigint AS spent
      FROM ledger_entries
      WHERE tenant_id = ${scope.tenantId} AND created_at >= ${since} AND kind IN ('usage', 'byok_fee', 'usage_reversal')`;
    return row?.spent ?? 0n;
  }

  /**
   * Upstream attempts since `since` (every try of every request, fallbacks included), optionally
   * only those to one model and/or provider, and how many of them failed for an upstream reason.
   * An attempt the gateway refused before calling (a parameter the provider lacks, a hold it could
   * not raise, a platform cap) has no `started_ms` and is no upstream attempt.
   */
  async attemptErrors(scope: TenantScope, since: Date, only: { model: string | null; provider: string | null }): Promise<AttemptErrors> {
    const [row] = await this.prisma.$queryRaw<AttemptErrors[]>`
      SELECT count(*)::int AS attempts,
             (count(*) FILTER (WHERE a->>'error' = ANY(${[...UPSTREAM_FAILURE_CODES]}::text[])))::int AS failed
      FROM request_logs r CROSS JOIN LATERAL jsonb_array_elements(r.attempts) a
      WHERE r.tenant_id = ${scope.tenantId} AND r.created_at >= ${since} AND a ? 'started_ms'
        AND (${only.model}::text IS NULL OR a->>'model' = ${only.model})
        AND (${only.provider}::text IS NULL OR a->>'provider' = ${only.provider})`;
    return row ?? { attempts: 0, failed: 0 };
  }
}
