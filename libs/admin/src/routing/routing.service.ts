import { Injectable } from '@nestjs/common';
import { RoutingSettingsRepository, type TenantScope } from '@gw/db';
import { ProviderRegistry } from '@gw/llm';
import { InvalidationBus } from '@gw/metering';
import { defaultRoutingDocument, validateRoutingDocument, type RoutingDocument } from '@gw/routing';

/** A tenant's routing document: validated strictly on write, cached by gateways, evicted on change. */
@Injectable()
export class RoutingService {
  constructor(
    private readonly settings: RoutingSettingsRepository,
    private readonly registry: ProviderRegistry,
    private readonly bus: InvalidationBus,
  ) {}

  async get(scope: TenantScope): Promise<RoutingDocument> {
    const stored = await this.settings.get(scope);
    if (!stored) return defaultRoutingDocument();
    // Stored documents were valid when written; normalizing again fills sections added since,
    // without the provider check (a provider removed later must not make the document unreadable).
    try {
      return validateRoutingDocument(stored.document);
    } catch {
      // Valid once, not under today's rules: show it as stored so the tenant can fix it with PUT
      // (gateways use the defaults meanwhile).
      return stored.document as RoutingDocument;
    }
  }

  async put(scope: TenantScope, input: unknown): Promise<RoutingDocument> {
    const doc = validateRoutingDocument(input, { providers: this.registry.ids() });
    await this.settings.put(scope, doc);
    await this.bus.publish({ type: 'tenant', tenantId: scope.tenantId });
    return doc;
  }
}
