import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, createGuardedAgent, guardedFetch, urlGuardErrorOf } from '@gw/core';
import { CatalogRepository } from '@gw/db';
import type { ProviderAdapter } from '@gw/llm';
import type { Agent } from 'undici';
import type { VerifyErrorView } from './provider-keys.dto';

const TIMEOUT_MS = 10_000;

export interface VerifyTarget {
  baseUrl: string;
  apiKey: string;
  /** Tenant-supplied base URLs go through the SSRF guard; the platform's own are trusted. */
  userSupplied: boolean;
}

interface Probe {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Checks a BYOK key with the cheapest call the provider offers, built from the adapter's own
 * request (URL and auth headers): for the OpenAI wire format `GET <base>/models` (free); for
 * others a one-token completion on the provider's cheapest catalog model. The upstream's body
 * is never read into the answer: providers echo parts of the key in error messages.
 */
@Injectable()
export class ProviderVerifier implements OnModuleDestroy {
  private readonly guarded: Agent;
  private readonly trusted: Agent;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly catalog: CatalogRepository,
  ) {
    this.guarded = createGuardedAgent({ allowPrivate: config.ALLOW_PRIVATE_PROVIDER_URLS, connectTimeoutMs: TIMEOUT_MS });
    // Operator-configured base URLs (<PREFIX>_BASE_URL) may be private on purpose; redirects stay refused.
    this.trusted = createGuardedAgent({ allowPrivate: true, connectTimeoutMs: TIMEOUT_MS });
  }

  async verify(adapter: ProviderAdapter, target: VerifyTarget): Promise<VerifyErrorView | null> {
    const probe = await this.probeOf(adapter, target);
    if (!probe) return { code: 'no_probe_model', message: 'No enabled catalog model of this provider to test the key with', status: null };
    let status: number;
    try {
      const res = await guardedFetch(probe.url, { method: probe.method, headers: probe.headers, body: probe.body, signal: AbortSignal.timeout(TIMEOUT_MS) }, target.userSupplied ? this.guarded : this.trusted);
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
    } catch (e) {
      const refused = urlGuardErrorOf(e);
      if (refused?.reason === 'redirect') return { code: 'redirect', message: 'The provider answered with a redirect, which is not followed', status: null };
      if (refused) return { code: 'blocked_address', message: `base_url ${refused.message}`, status: null };
      if ((e as Error).name === 'TimeoutError') return { code: 'timeout', message: 'The provider did not answer in time', status: null };
      return { code: 'unreachable', message: 'Could not reach the provider', status: null };
    }
    if (status >= 200 && status < 300) return null;
    if (status === 401 || status === 403) return { code: 'invalid_key', message: `The provider refused the key (${status})`, status };
    if (status === 429) return { code: 'rate_limited', message: 'The provider rate limited the check (429); the key may be valid', status };
    if (status === 404) return { code: 'not_found', message: 'The provider answered 404: check base_url', status };
    if (status >= 500) return { code: 'provider_unavailable', message: `The provider failed (${status})`, status };
    return { code: 'provider_error', message: `The provider answered ${status}`, status };
  }

  private async probeOf(adapter: ProviderAdapter, target: VerifyTarget): Promise<Probe | null> {
    const build = (upstreamModel: string) =>
      adapter.buildChatRequest(
        { model: `${adapter.id}/${upstreamModel}`, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 },
        { baseUrl: target.baseUrl, apiKey: target.apiKey, upstreamModel },
        { stream: false, maxTokens: 1, unsupportedParams: 'drop' },
      );
    const shape = build('probe');
    if (adapter.wireFormat === 'openai' && shape.url.endsWith('/chat/completions')) {
      const headers = { ...shape.headers };
      delete headers['content-type'];
      headers.accept = 'application/json';
      return { method: 'GET', url: `${shape.url.slice(0, -'/chat/completions'.length)}/models`, headers };
    }
    const model = await this.cheapestModel(adapter.id);
    if (!model) return null;
    const req = build(model);
    return { method: 'POST', url: req.url, headers: req.headers, body: req.body };
  }

  private async cheapestModel(provider: string): Promise<string | null> {
    const models = (await this.catalog.listEnabled()).filter((m) => m.provider === provider);
    models.sort((a, b) => Number(a.inputPrice + a.outputPrice - (b.inputPrice + b.outputPrice)));
    return models[0]?.upstreamId ?? null;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.guarded.close(), this.trusted.close()]).catch(() => undefined);
  }
}
