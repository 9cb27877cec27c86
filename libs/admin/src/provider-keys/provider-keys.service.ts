import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, assertPublicUrl, Clock, DomainError, ErrorCode, lastFour, newId, SecretBox } from '@gw/core';
import { ProviderCredentialRepository, providerCredentialAad, type PageRequest, type StoredProviderCredential, type TenantScope } from '@gw/db';
import { ProviderRegistry, type ProviderAdapter } from '@gw/llm';
import { InvalidationBus } from '@gw/metering';
import { listOf, type ListResponse } from '../common/pagination.dto';
import { ProviderVerifier } from './provider-verifier';
import type { ProviderKeyView, VerifyView } from './provider-keys.dto';

export function providerKeyView(c: StoredProviderCredential): ProviderKeyView {
  return {
    id: c.id,
    provider: c.provider,
    label: c.label,
    last4: c.last4,
    base_url: c.baseUrl,
    priority: c.priority,
    verified_at: c.verifiedAt?.toISOString() ?? null,
    created_at: c.createdAt.toISOString(),
  };
}

/**
 * BYOK provider keys. The secret is sealed (AES-256-GCM, AAD = its row) before it reaches the
 * repository and is opened only to call the provider; it never appears in an answer, a log line
 * or an error message. Every change evicts the tenant from the gateways' caches.
 */
@Injectable()
export class ProviderKeysService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly creds: ProviderCredentialRepository,
    private readonly box: SecretBox,
    private readonly registry: ProviderRegistry,
    private readonly verifier: ProviderVerifier,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
  ) {}

  async create(
    scope: TenantScope,
    input: { provider: string; apiKey: string; baseUrl?: string; label?: string; priority: 'first' | 'fallback' },
  ): Promise<ProviderKeyView> {
    this.adapter(input.provider);
    const baseUrl = input.baseUrl === undefined ? null : await this.checkBaseUrl(input.baseUrl);
    const id = newId('pk');
    const stored = await this.creds.create(scope, {
      id,
      provider: input.provider,
      label: input.label ?? null,
      sealed: this.box.seal(input.apiKey, providerCredentialAad(scope.tenantId, id)),
      last4: lastFour(input.apiKey),
      baseUrl,
      priority: input.priority,
    });
    await this.bus.publish({ type: 'tenant', tenantId: scope.tenantId });
    return providerKeyView(stored);
  }

  async list(scope: TenantScope, req: PageRequest & { provider?: string }): Promise<ListResponse<ProviderKeyView>> {
    return listOf(await this.creds.page(scope, req), providerKeyView);
  }

  async get(scope: TenantScope, id: string): Promise<StoredProviderCredential> {
    const c = await this.creds.get(scope, id);
    if (!c) throw new DomainError(ErrorCode.NotFound, 'No such provider key', { param: 'id' });
    return c;
  }

  /**
   * A new base URL takes a new key in the same request: else whoever may edit provider keys could
   * point a stored key at a server of theirs and have /verify (or the next gateway request) send
   * it there. A new URL or key clears `verified_at`: the check was of the pair stored before.
   */
  async update(
    scope: TenantScope,
    id: string,
    changes: { baseUrl?: string | null; apiKey?: string; label?: string | null; priority?: 'first' | 'fallback' },
  ): Promise<ProviderKeyView> {
    const current = await this.get(scope, id);
    // The stored URL sent back unchanged (a client saving a label) is not a new URL: a scheme or
    // port rule added since does not refuse it (its addresses are still checked).
    const baseUrl = changes.baseUrl === undefined || changes.baseUrl === null ? changes.baseUrl : await this.checkBaseUrl(changes.baseUrl, current.baseUrl);
    const newUrl = baseUrl !== undefined && baseUrl !== current.baseUrl;
    if (newUrl && changes.apiKey === undefined) {
      throw new DomainError(ErrorCode.InvalidBody, 'api_key is required to change base_url: the stored key is only sent where it was given for', { param: 'api_key' });
    }
    const updated = await this.creds.update(scope, id, {
      ...(baseUrl !== undefined ? { baseUrl } : {}),
      ...(changes.apiKey !== undefined ? { sealed: this.box.seal(changes.apiKey, current.aad), last4: lastFour(changes.apiKey) } : {}),
      ...(newUrl || changes.apiKey !== undefined ? { verifiedAt: null } : {}),
      ...(changes.label !== undefined ? { label: changes.label } : {}),
      ...(changes.priority !== undefined ? { priority: changes.priority } : {}),
    });
    if (!updated) throw new DomainError(ErrorCode.NotFound, 'No such provider key', { param: 'id' });
    await this.bus.publish({ type: 'tenant', tenantId: scope.tenantId });
    return providerKeyView(updated);
  }

  async delete(scope: TenantScope, id: string): Promise<void> {
    if (!(await this.creds.delete(scope, id))) throw new DomainError(ErrorCode.NotFound, 'No such provider key', { param: 'id' });
    await this.bus.publish({ type: 'tenant', tenantId: scope.tenantId });
  }

  /** A cheap authenticated call to the provider with the tenant's key (see ProviderVerifier). */
  async verify(scope: TenantScope, id: string): Promise<VerifyView> {
    const c = await this.get(scope, id);
    const adapter = this.adapter(c.provider);
    const platformBase = this.config.provider(adapter.envPrefix).baseUrl ?? adapter.defaultBaseUrl;
    const error = await this.verifier.verify(adapter, {
      baseUrl: c.baseUrl ?? platformBase,
      apiKey: this.box.open(c.sealed, c.aad),
      userSupplied: c.baseUrl !== null,
    });
    if (error) return { id, verified: false, verified_at: c.verifiedAt?.toISOString() ?? null, error };
    const at = new Date(this.clock.now());
    await this.creds.markVerified(scope, id, at);
    return { id, verified: true, verified_at: at.toISOString(), error: null };
  }

  private adapter(provider: string): ProviderAdapter {
    const a = this.registry.get(provider);
    if (!a) throw new DomainError(ErrorCode.InvalidBody, `provider must be one of: ${this.registry.ids().join(', ')}`, { param: 'provider' });
    return a;
  }

  /** Write-time SSRF check (the connection is checked again at connect time, after DNS). */
  private async checkBaseUrl(url: string, stored?: string | null): Promise<string> {
    const unchanged = stored != null && storedFormOf(url) === stored;
    const parsed = await assertPublicUrl(url, { allowPrivate: this.config.ALLOW_PRIVATE_PROVIDER_URLS, policy: unchanged ? undefined : this.config.urlPolicy, param: 'base_url' });
    if (parsed.search || parsed.hash) throw new DomainError(ErrorCode.InvalidBody, 'base_url must not have a query or fragment', { param: 'base_url' });
    return storedFormOf(parsed.href)!;
  }
}

/** A base URL as stored: WHATWG-normalised, without trailing slashes (undefined when unparsable). */
function storedFormOf(url: string): string | undefined {
  try {
    return new URL(url).href.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}
