import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock, DomainError, ErrorCode, platformCapsSchema, RefreshingCache, SecretBox, type PlatformCaps } from '@gw/core';
import { ProviderCredentialRepository, RoutingSettingsRepository, TenantRepository, tenantScope } from '@gw/db';
import { InvalidationBus } from '@gw/metering';
import { defaultRoutingDocument, validateRoutingDocument, type RoutingDocument } from '@gw/routing';

/** A tenant's own provider key, opened in memory only (never logged, never sent anywhere else). */
export interface ByokCredential {
  id: string;
  provider: string;
  apiKey: string;
  baseUrl: string | null;
  priority: 'first' | 'fallback';
  /** Set when the stored secret cannot be opened: the key is known but unusable (apiKey is empty). */
  unavailable?: true;
}

export interface TenantContext {
  routing: RoutingDocument;
  credentials: ByokCredential[];
  /** Privacy opt-in: store prompt and completion content with the request log. */
  logContent: boolean;
  /** Caps on the platform's own provider credentials: the operator's override, else PLATFORM_TENANT_CAPS. */
  platformCaps: PlatformCaps;
}

const MAX_TENANTS = 50_000;

/**
 * Per-tenant routing document, BYOK credentials and privacy choice, read from Postgres at most once per TTL and
 * evicted by a `tenant` invalidation (or all of them when the subscriber reconnects), like keys.
 */
@Injectable()
export class TenantContextCache implements OnModuleInit {
  private readonly logger = new Logger('tenant-cache');
  private readonly entries: RefreshingCache<TenantContext>;
  private readonly defaultCaps: PlatformCaps;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly routing: RoutingSettingsRepository,
    private readonly credentials: ProviderCredentialRepository,
    private readonly tenants: TenantRepository,
    private readonly box: SecretBox,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
  ) {
    const ttlMs = config.KEY_CACHE_TTL_SECONDS * 1000;
    this.defaultCaps = config.PLATFORM_TENANT_CAPS;
    this.entries = new RefreshingCache<TenantContext>({
      load: (tenantId) => this.load(tenantId),
      ttlOf: () => ttlMs,
      maxEntries: MAX_TENANTS,
      now: () => clock.now(),
      onStale: (tenantId, e) => this.logger.warn(`Postgres unreadable, serving tenant ${tenantId}'s cached settings past their TTL: ${(e as Error).message}`),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.bus.listen((m) => {
      if (m.type === 'reset') this.entries.clear();
      else if (m.type === 'tenant') this.entries.delete(m.tenantId);
    });
  }

  /** The tenant's settings; while Postgres cannot be read, the last ones for up to 15 minutes, else 503. */
  async get(tenantId: string): Promise<TenantContext> {
    try {
      return await this.entries.get(tenantId);
    } catch (e) {
      this.logger.error(`tenant ${tenantId}: settings cannot be read: ${(e as Error).message}`);
      throw new DomainError(ErrorCode.ServiceUnavailable, 'Account settings cannot be read right now; retry shortly', { retryAfterSeconds: 5 });
    }
  }

  private async load(tenantId: string): Promise<TenantContext> {
    const scope = tenantScope(tenantId);
    const [stored, rows, tenant] = await Promise.all([this.routing.get(scope), this.credentials.listForTenant(scope), this.tenants.findById(tenantId)]);
    let routing = defaultRoutingDocument();
    if (stored) {
      try {
        routing = validateRoutingDocument(stored.document);
      } catch {
        this.logger.warn(`tenant ${tenantId}: stored routing document no longer validates; using defaults`);
      }
    }
    const credentials: ByokCredential[] = [];
    for (const r of rows) {
      try {
        credentials.push({ id: r.id, provider: r.provider, apiKey: this.box.open(r.sealed, r.aad), baseUrl: r.baseUrl, priority: r.priority });
      } catch {
        // Never the secret or its ciphertext in a log line: the id says which row to fix. Kept as
        // unusable rather than dropped: a dropped key would silently send the tenant's traffic to
        // the platform's key and credits (reliability T44).
        this.logger.error(`tenant ${tenantId}: provider credential ${r.id} cannot be decrypted`);
        credentials.push({ id: r.id, provider: r.provider, apiKey: '', baseUrl: r.baseUrl, priority: r.priority, unavailable: true });
      }
    }
    let platformCaps = this.defaultCaps;
    if (tenant?.platformCaps != null) {
      const parsed = platformCapsSchema.safeParse(tenant.platformCaps);
      if (parsed.success) platformCaps = parsed.data;
      else this.logger.warn(`tenant ${tenantId}: stored platform caps no longer validate; using the platform default`);
    }
    return { routing, credentials, logContent: tenant?.logContent ?? false, platformCaps };
  }
}
