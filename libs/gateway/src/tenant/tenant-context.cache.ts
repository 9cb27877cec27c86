import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock, platformCapsSchema, SecretBox, type PlatformCaps } from '@gw/core';
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
}

export interface TenantContext {
  routing: RoutingDocument;
  credentials: ByokCredential[];
  /** Privacy opt-in: store prompt and completion content with the request log. */
  logContent: boolean;
  /** Caps on the platform's own provider credentials: the operator's override, else PLATFORM_TENANT_CAPS. */
  platformCaps: PlatformCaps;
}

interface Entry {
  value: TenantContext;
  expiresAt: number;
}

/**
 * Per-tenant routing document, BYOK credentials and privacy choice, read from Postgres at most once per TTL and
 * evicted by a `tenant` invalidation (or all of them when the subscriber reconnects), like keys.
 */
@Injectable()
export class TenantContextCache implements OnModuleInit {
  private readonly logger = new Logger('tenant-cache');
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<TenantContext>>();
  private readonly ttlMs: number;
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
    this.ttlMs = config.KEY_CACHE_TTL_SECONDS * 1000;
    this.defaultCaps = config.PLATFORM_TENANT_CAPS;
  }

  async onModuleInit(): Promise<void> {
    await this.bus.listen((m) => {
      if (m.type === 'reset') this.entries.clear();
      else if (m.type === 'tenant') this.entries.delete(m.tenantId);
    });
  }

  async get(tenantId: string): Promise<TenantContext> {
    const hit = this.entries.get(tenantId);
    if (hit && hit.expiresAt > this.clock.now()) return hit.value;
    let p = this.inflight.get(tenantId);
    if (!p) {
      p = this.load(tenantId).finally(() => this.inflight.delete(tenantId));
      this.inflight.set(tenantId, p);
    }
    return p;
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
        // Never the secret or its ciphertext in a log line: the id says which row to fix.
        this.logger.error(`tenant ${tenantId}: provider credential ${r.id} cannot be decrypted; skipped`);
      }
    }
    let platformCaps = this.defaultCaps;
    if (tenant?.platformCaps != null) {
      const parsed = platformCapsSchema.safeParse(tenant.platformCaps);
      if (parsed.success) platformCaps = parsed.data;
      else this.logger.warn(`tenant ${tenantId}: stored platform caps no longer validate; using the platform default`);
    }
    const value = { routing, credentials, logContent: tenant?.logContent ?? false, platformCaps };
    this.entries.set(tenantId, { value, expiresAt: this.clock.now() + this.ttlMs });
    return value;
  }
}
