import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ErrorCode, microsToUsd } from '@gw/core';
import { PrismaService, RequestLogRepository, tenantScope } from '@gw/db';
import { CreditStore, usdPricingOf } from '@gw/metering';
import { CreditSync } from '@gw/billing';
import { requestLogView } from '@gw/observability';
import { CatalogCache, catalogNotLoaded } from '../catalog/catalog-cache';
import { ProviderEndpoints } from '../upstream/provider-endpoints';
import { Reservations } from '../chat/reservation';

/** The data plane's read endpoints: models, credits, the calling key, one generation. */
@Injectable()
export class AccountHandlers {
  constructor(
    private readonly catalog: CatalogCache,
    private readonly endpoints: ProviderEndpoints,
    private readonly store: CreditStore,
    private readonly sync: CreditSync,
    private readonly logs: RequestLogRepository,
    private readonly prisma: PrismaService,
    private readonly reservations: Reservations,
  ) {}

  models(_req: FastifyRequest, reply: FastifyReply) {
    if (!this.catalog.loaded) throw catalogNotLoaded();
    const data = this.catalog.all().map((m) => ({
      id: m.id,
      object: 'model',
      created: m.createdAt,
      owned_by: m.provider,
      name: m.name,
      context_length: m.contextLength,
      max_output_tokens: m.maxOutputTokens,
      pricing: usdPricingOf(m.price),
      capabilities: m.capabilities,
      // Who can serve it: its own provider and those of its catalog equivalents (the planner's).
      providers: [...new Set([m.provider, ...this.catalog.equivalents(m.canonical).map((e) => e.provider)])],
      available: this.endpoints.get(m.provider) !== undefined,
    }));
    return reply.send({ object: 'list', data });
  }

  async credits(req: FastifyRequest, reply: FastifyReply) {
    const c = await this.store.getCredits(req.gwKey.tenantId);
    if (!c) {
      void this.sync.sync(req.gwKey.tenantId).catch(() => undefined);
      throw new DomainError(ErrorCode.BillingUnavailable, 'Balance is being rebuilt; retry shortly', { retryAfterSeconds: 1 });
    }
    return reply.send({
      data: {
        total_credits: microsToUsd(c.credits),
        total_usage: microsToUsd(c.usage),
        balance: microsToUsd(c.balance),
        reserved: microsToUsd(c.reserved),
      },
    });
  }

  async key(req: FastifyRequest, reply: FastifyReply) {
    const k = req.gwKey;
    const [[row], spend] = await Promise.all([
      this.prisma.$queryRaw<{ usage: bigint | null }[]>`
        SELECT SUM(cost_micros + byok_fee_micros)::bigint AS usage FROM request_logs WHERE tenant_id = ${k.tenantId} AND api_key_id = ${k.id}`,
      this.store.getKeySpend(k.tenantId, k.id),
    ]);
    // What the credit limit counts, as the reserve script does: this period's spend (a stored
    // period that is over counts as nothing) and the holds of requests in flight.
    const periodSpent = spend.periodId === this.reservations.periodOf(k) ? spend.spent : 0n;
    const remaining = k.creditLimitMicros === null ? null : k.creditLimitMicros - periodSpent - spend.held;
    return reply.send({
      data: {
        id: k.id,
        name: k.name,
        label: k.name,
        usage: microsToUsd(row?.usage ?? 0n),
        period_usage: microsToUsd(periodSpent),
        limit: k.creditLimitMicros === null ? null : microsToUsd(k.creditLimitMicros),
        limit_remaining: remaining === null ? null : microsToUsd(remaining > 0n ? remaining : 0n),
        limit_reset: k.limitReset,
        include_byok_in_limit: k.includeByokInLimit,
        rate_limit: { rpm: k.rpmLimit, tpm: k.tpmLimit },
        allowed_models: k.allowedModels,
        expires_at: k.expiresAtMs === null ? null : new Date(k.expiresAtMs).toISOString(),
      },
    });
  }

  async generation(req: FastifyRequest, reply: FastifyReply) {
    const id = (req.query as { id?: unknown }).id;
    if (typeof id !== 'string' || !id) throw new DomainError(ErrorCode.InvalidBody, 'id is required', { param: 'id' });
    const log = await this.logs.get(tenantScope(req.gwKey.tenantId), id);
    if (!log) throw new DomainError(ErrorCode.NotFound, `No generation with id ${id} (records appear within a second or two)`);
    return reply.send({ data: requestLogView(log) });
  }
}
