import { Injectable } from '@nestjs/common';
import type { ChatRequest } from '@gw/llm';
import { planRoute, type ProviderPrefs } from '@gw/routing';
import type { KeyInfo } from '../auth/key-cache';
import { CatalogCache, catalogNotLoaded, type CatalogEntry } from '../catalog/catalog-cache';
import { ProviderEndpoints, type PlatformEndpoint } from '../upstream/provider-endpoints';
import type { TenantContext } from '../tenant/tenant-context.cache';
import { modelAllowed, type Candidate } from '../chat/chat-plan';
import { ProviderHealth } from './provider-health.service';

export interface RoutedRequest {
  key: KeyInfo;
  body: Pick<ChatRequest, 'model' | 'models' | 'provider' | 'user'>;
  tenant: TenantContext;
  promptTokens: number;
  worstCase(model: CatalogEntry): bigint;
}

/** The end of a health key for the platform's credential (a tenant's own key ends in its id). */
export const PLATFORM_TARGET = '|platform';

/** The health key of one way to reach a model: the platform's credential or a tenant's own. */
export const targetOf = (c: Candidate) => (c.endpoint.credentialId === undefined ? `${c.model.id}${PLATFORM_TARGET}` : `${c.model.id}|${c.endpoint.credentialId}`);

/**
 * The gateway's side of routing: feeds the pure planner with the cached catalog, the tenant's
 * routing document, the health snapshot and what is reachable, then turns each planned model into
 * concrete endpoints: the tenant's own keys marked `first`, the platform, its `fallback` keys.
 */
@Injectable()
export class RoutePlanner {
  constructor(
    private readonly catalog: CatalogCache,
    private readonly endpoints: ProviderEndpoints,
    private readonly health: ProviderHealth,
  ) {}

  plan(r: RoutedRequest): { candidates: Candidate[]; decisions: string[] } {
    // Started while Postgres was unreachable and not loaded yet: every model would be "unknown".
    if (!this.catalog.loaded) throw catalogNotLoaded();
    const creds = r.tenant.credentials;
    const plan = planRoute({
      model: r.body.model,
      fallbacks: r.body.models,
      provider: r.body.provider as ProviderPrefs | undefined,
      document: r.tenant.routing,
      catalog: this.catalog,
      isAllowed: (m) => modelAllowed(r.key, m),
      isAvailable: (m) => this.endpoints.get(m.provider) !== undefined || creds.some((c) => c.provider === m.provider),
      health: (m) => this.health.health(`${m.id}${PLATFORM_TARGET}`),
      promptTokens: r.promptTokens,
      worstCase: (m) => r.worstCase(m as CatalogEntry),
      random: Math.random,
      stickyKey: r.body.user,
    });
    const candidates: Candidate[] = [];
    for (const a of plan.attempts) {
      const model = a.model as CatalogEntry;
      const adapter = this.endpoints.adapter(model.provider);
      if (!adapter) continue;
      const own = creds.filter((c) => c.provider === model.provider);
      const platform = this.endpoints.get(model.provider);
      // A key without its own base URL goes where the platform calls the provider (its sandbox too).
      const platformUrl = this.endpoints.baseUrlFor(model.provider) ?? adapter.defaultBaseUrl;
      const byok = (priority: 'first' | 'fallback'): PlatformEndpoint[] =>
        own
          .filter((c) => c.priority === priority)
          .map((c) => ({
            adapter,
            apiKey: c.apiKey,
            baseUrl: c.baseUrl ?? platformUrl,
            sandbox: c.baseUrl === null && platform?.sandbox === true,
            credentialId: c.id,
            ...(c.baseUrl !== null ? { tenantUrl: true as const } : {}),
            ...(c.unavailable ? { unavailable: true as const } : {}),
          }));
      const endpoints = [...byok('first'), ...(platform ? [platform] : []), ...byok('fallback')];
      // A tenant's own key whose circuit is open (its provider or base URL keeps failing) is tried
      // after the others, as an open model is: its breaker is its own, never the platform's. Only
      // when the tenant lets the platform stand in for its keys: otherwise the platform must not
      // serve (and charge) what the tenant's own key would have answered, a 429 included.
      const demote = own.length > 0 && r.tenant.routing.byok_fallback_to_platform;
      const open = !demote ? [] : endpoints.filter((endpoint) => endpoint.credentialId !== undefined && this.health.health(targetOf({ model, endpoint })).open);
      for (const endpoint of endpoints) if (!open.includes(endpoint)) candidates.push({ model, endpoint });
      for (const endpoint of open) candidates.push({ model, endpoint });
    }
    return { candidates, decisions: plan.decisions };
  }
}
