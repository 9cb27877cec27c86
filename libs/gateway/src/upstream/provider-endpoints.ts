import { Inject, Injectable, Optional } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { ProviderRegistry, type ProviderAdapter } from '@gw/llm';

/** Base URLs of local simulated upstreams by provider id, given in sandbox mode only. */
export const SANDBOX_UPSTREAMS = Symbol('SANDBOX_UPSTREAMS');
export type SandboxUpstreams = ReadonlyMap<string, string>;

export interface PlatformEndpoint {
  adapter: ProviderAdapter;
  baseUrl: string;
  apiKey: string;
  sandbox: boolean;
  /** Set when the tenant's own credential is used (BYOK): its id. */
  credentialId?: string;
  /** The base URL is the tenant's own (BYOK `base_url`): called through the guarded network path. */
  tenantUrl?: true;
  /** The tenant's own credential could not be opened (its ciphertext or the key-encryption key is wrong). */
  unavailable?: true;
}

/**
 * The platform's own credentials per provider, resolved once at start from `<PREFIX>_API_KEY` and
 * `<PREFIX>_BASE_URL`. In sandbox mode every provider points at a simulated upstream; otherwise a
 * provider without a key is unavailable, never faked.
 */
@Injectable()
export class ProviderEndpoints {
  private readonly endpoints = new Map<string, PlatformEndpoint>();
  /** Per provider, where the platform calls it: `<PREFIX>_BASE_URL`, the provider's default, or the sandbox. */
  private readonly baseUrls = new Map<string, string>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly registry: ProviderRegistry,
    @Optional() @Inject(SANDBOX_UPSTREAMS) sandbox?: SandboxUpstreams,
  ) {
    for (const adapter of registry.all()) {
      const env = config.provider(adapter.envPrefix);
      this.baseUrls.set(adapter.id, env.baseUrl ?? adapter.defaultBaseUrl);
      if (env.apiKey) {
        this.endpoints.set(adapter.id, { adapter, apiKey: env.apiKey, baseUrl: env.baseUrl ?? adapter.defaultBaseUrl, sandbox: false });
      } else if (config.sandbox && sandbox?.has(adapter.id)) {
        this.endpoints.set(adapter.id, { adapter, apiKey: 'sk-sandbox', baseUrl: sandbox.get(adapter.id)!, sandbox: true });
        this.baseUrls.set(adapter.id, sandbox.get(adapter.id)!);
      }
    }
  }

  get(providerId: string): PlatformEndpoint | undefined {
    return this.endpoints.get(providerId);
  }

  /**
   * Where a tenant's own key without a `base_url` is sent: where the platform calls the provider
   * (`<PREFIX>_BASE_URL` when set, the simulated upstream in sandbox mode), as the README says.
   */
  baseUrlFor(providerId: string): string | undefined {
    return this.baseUrls.get(providerId);
  }

  adapter(providerId: string): ProviderAdapter | undefined {
    return this.registry.get(providerId);
  }

  available(): string[] {
    return [...this.endpoints.keys()];
  }
}
