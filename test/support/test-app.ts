import 'reflect-metadata';
import OpenAI from 'openai';
import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CoreModule, createFastifyApp, loadConfig, type AppConfig } from '@gw/core';
import { DbModule, PrismaService } from '@gw/db';
import { OpsModule, RedisModule, CreditStore } from '@gw/metering';
import { GatewayModule } from '@gw/gateway';
import { AdminModule, CatalogSeeder, setupAdminOpenApi } from '@gw/admin';
import { UsageWriter } from '@gw/billing';
import { BillingModule } from '@gw/billing/worker';
import { HealthMetricsModule } from '@gw/observability';
import { ObservabilityWorkerModule, QueueMetricsModule } from '@gw/observability/worker';
import { FakeAnthropicServer, FakeGeminiServer, FakeOpenAiServer } from '@gw/testing';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestApp {
  url: string;
  app: NestFastifyApplication;
  config: AppConfig;
  openai: FakeOpenAiServer;
  anthropic: FakeAnthropicServer;
  gemini: FakeGeminiServer;
  prisma: PrismaService;
  credits: CreditStore;
  /** Writes every pending usage event to Postgres now (what the billing worker does each second). */
  drain(): Promise<number>;
  signup(email?: string): Promise<{ token: string; tenantId: string; apiKey: string }>;
  grant(tenantId: string, usd: number, idempotencyKey?: string): Promise<Response>;
  close(): Promise<void>;
}

let counter = 0;

/**
 * Boots the real product (gateway, admin and billing modules, as `npm start` composes them) in
 * this Jest worker, against its own Postgres database and Redis prefix, with fake providers that
 * speak the real wire formats.
 */
export async function startTestApp(env: Record<string, string> = {}, opts: { billingWorker?: boolean; observabilityWorker?: boolean } = {}): Promise<TestApp> {
  const openai = new FakeOpenAiServer({ apiKey: 'sk-platform-openai' });
  const anthropic = new FakeAnthropicServer({ apiKey: 'sk-platform-anthropic' });
  const gemini = new FakeGeminiServer({ apiKey: 'sk-platform-gemini' });
  const [openaiUrl, anthropicUrl, geminiUrl] = await Promise.all([openai.start(), anthropic.start(), gemini.start()]);
  const config = loadConfig({
    ...process.env,
    ADMIN_TOKEN,
    OPENAI_API_KEY: 'sk-platform-openai',
    OPENAI_BASE_URL: `${openaiUrl}/v1`,
    ANTHROPIC_API_KEY: 'sk-platform-anthropic',
    ANTHROPIC_BASE_URL: anthropicUrl,
    DEEPSEEK_API_KEY: 'sk-platform-openai',
    DEEPSEEK_BASE_URL: `${openaiUrl}/v1`,
    GEMINI_API_KEY: 'sk-platform-gemini',
    GEMINI_BASE_URL: `${geminiUrl}/v1beta`,
    SANDBOX: 'false',
    // Suites sign up many tenants from 127.0.0.1; the brute-force suite sets its own limits.
    AUTH_SIGNUP_MAX_PER_IP: '100000',
    // Jest workers share two cores and block their loops at will: load shedding is off except in
    // the suite that tests it (overload.e2e-spec.ts).
    OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
  @Module({
    imports: [
      CoreModule.forRoot(config),
      DbModule,
      RedisModule,
      OpsModule,
      GatewayModule,
      AdminModule,
      ...(opts.billingWorker === false ? [] : [BillingModule]),
      // /metrics as the apps compose it; the observability worker (retention, alerts) only when a suite asks.
      HealthMetricsModule,
      QueueMetricsModule,
      ...(opts.observabilityWorker ? [ObservabilityWorkerModule] : []),
    ],
  })
  class TestAppModule {}
  const app = await createFastifyApp(TestAppModule, config);
  // JSON only: the Swagger UI's static assets need ESM packages Jest cannot load (Node can).
  setupAdminOpenApi(app, { ui: false });
  await app.init();
  await app.get(CatalogSeeder).seed();
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const base = url.replace('[::1]', '127.0.0.1');

  const t: TestApp = {
    url: base,
    app,
    config,
    openai,
    anthropic,
    gemini,
    prisma: app.get(PrismaService),
    credits: app.get(CreditStore),
    drain: () => app.get(UsageWriter).drainAll(true),
    async signup(email = `user${process.pid}-${Date.now()}-${counter++}@example.com`) {
      const res = await fetch(`${base}/api/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'correct horse battery staple' }),
      });
      if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { token: string; tenant: { id: string }; api_key: { key: string } };
      return { token: body.token, tenantId: body.tenant.id, apiKey: body.api_key.key };
    },
    grant(tenantId: string, usd: number, idempotencyKey = `grant-${Date.now()}-${counter++}`) {
      return fetch(`${base}/api/admin/tenants/${tenantId}/credits`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ amount: usd, reason: 'test credit' }),
      });
    },
    async close() {
      // A worker job stuck at shutdown must not hang the whole run: give up after 20 s and say so.
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<'stuck'>((r) => (timer = setTimeout(() => r('stuck'), 20_000)));
      if ((await Promise.race([app.close().then(() => 'closed' as const), stuck])) === 'stuck') {
        console.warn('test app did not close within 20 s (a worker job still running)');
      }
      clearTimeout(timer);
      await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
    },
  };
  return t;
}

/** A new tenant granted `usd` of credits, with an OpenAI SDK client on its first key (no SDK retries). */
export async function fundedTenant(t: TestApp, usd = 5) {
  const s = await t.signup();
  const granted = await t.grant(s.tenantId, usd);
  if (granted.status !== 201) throw new Error(`grant failed: ${granted.status} ${await granted.text()}`);
  return { ...s, client: new OpenAI({ baseURL: `${t.url}/v1`, apiKey: s.apiKey, maxRetries: 0 }) };
}

/**
 * POST /v1/chat/completions with a tenant's key: one short user message to gpt-4o-mini, with
 * `body` merged over it.
 */
export function postChat(t: TestApp, apiKey: string, body: object = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], ...body }),
  });
}
