import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Agent } from 'undici';
import { APP_CONFIG, type AppConfig, createGuardedAgent, guardedFetch } from '@gw/core';

export interface WebhookResponse {
  status: number;
}

/**
 * Outbound webhook calls under the same URL rules as BYOK base URLs: the guarded agent checks
 * every address after DNS at connect time (unless ALLOW_PRIVATE_PROVIDER_URLS), redirects are
 * refused, and the response body is never read (a receiver cannot make us buffer anything).
 */
@Injectable()
export class WebhookClient implements OnModuleDestroy {
  private agent?: Agent;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async post(url: string, body: string, headers: Record<string, string>): Promise<WebhookResponse> {
    this.agent ??= createGuardedAgent({
      allowPrivate: this.config.ALLOW_PRIVATE_PROVIDER_URLS,
      connectTimeoutMs: this.config.ALERT_WEBHOOK_TIMEOUT_MS,
      agent: { keepAliveTimeout: 10_000, connections: 16 },
    });
    const res = await guardedFetch(
      url,
      { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(this.config.ALERT_WEBHOOK_TIMEOUT_MS) },
      this.agent,
    );
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status };
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent?.close().catch(() => undefined);
  }
}
