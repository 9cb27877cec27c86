import { Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCode, type PlatformCaps } from '@gw/core';
import { PlatformCapLimiter } from '@gw/metering';

/** A taken place under a tenant's cap; release it when the attempt is over (streams included). */
export interface CapSlot {
  release(): void;
}

const FREE: CapSlot = { release: () => undefined };

/**
 * Per-tenant caps on the platform's own provider credentials, so one tenant cannot use up the
 * quota all tenants share. Only attempts on platform credentials pass here (BYOK is the tenant's
 * own quota); a capped attempt is skipped like a failed one, so the plan moves on to the tenant's
 * own key or another provider, and a request with nothing left gets 429 with Retry-After.
 */
@Injectable()
export class PlatformCapGate {
  private readonly logger = new Logger('platform-caps');

  constructor(private readonly limiter: PlatformCapLimiter) {}

  async take(tenantId: string, provider: string, caps: PlatformCaps, lease: string): Promise<CapSlot | DomainError> {
    const limits = caps[provider] ?? caps['*'];
    if (!limits || (!limits.rpm && !limits.concurrency)) return FREE;
    let d;
    try {
      d = await this.limiter.acquire(tenantId, provider, limits, lease);
    } catch (e) {
      // A fairness limit, not money: without Redis the request is refused by its reservation anyway.
      this.logger.warn(`platform cap check failed open: ${(e as Error).message}`);
      return FREE;
    }
    if (d.ok) return limits.concurrency ? this.held(tenantId, provider, lease) : FREE;
    const what = d.limit === 'rpm' ? `${limits.rpm} requests per minute` : `${limits.concurrency} requests at once`;
    return new DomainError(
      ErrorCode.RateLimited,
      `This account's share of the platform's ${provider} capacity is in use (${what}); retry later or add your own ${provider} key`,
      { retryAfterSeconds: Math.ceil(d.retryAfterMs / 1000), meta: { reason: 'platform_cap', provider, limit: d.limit } },
    );
  }

  /** A concurrency slot, its lease renewed while the attempt runs (a stream can outlast one lease). */
  private held(tenantId: string, provider: string, lease: string): CapSlot {
    const renew = setInterval(() => void this.limiter.renew(tenantId, provider, lease).catch(() => undefined), this.limiter.leaseMs / 3);
    renew.unref();
    return {
      release: () => {
        clearInterval(renew);
        void this.limiter.release(tenantId, provider, lease).catch(() => undefined);
      },
    };
  }
}
