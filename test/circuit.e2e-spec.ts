import OpenAI from 'openai';
import { FakeOpenAiServer } from '@gw/testing';
import { startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';

const env = { HEALTH_WINDOW_MS: '1000', CIRCUIT_COOLDOWN_MS: '4000', CIRCUIT_MIN_REQUESTS: '10', CIRCUIT_ERROR_RATE: '0.5' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('circuit breaker shared by two gateway processes', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await startTestApp(env, { billingWorker: false });
    b = await startTestApp(env, { billingWorker: false });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('opens on a provider failing half its calls, moves traffic, probes after the cool-down and closes on recovery', async () => {
    const s = await a.signup();
    expect((await a.grant(s.tenantId, 5)).status).toBe(201);
    const clients = [a, b].map((x) => new OpenAI({ baseURL: `${x.url}/v1`, apiKey: s.apiKey, maxRetries: 0 }));
    const ask = (i: number) =>
      clients[i % 2].chat.completions.create({
        model: 'openai/gpt-4o-mini',
        models: ['anthropic/claude-haiku-4.5'],
        messages: [{ role: 'user', content: `q${i}` }],
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);

    // Each gateway has its own fake upstreams here: both fail every other call.
    for (const x of [a, b]) for (let i = 0; i < 20; i++) x.openai.enqueue({ status: 500 }, {});
    for (let i = 0; i < 16; i++) expect((await ask(i)).choices[0].message.content).toBeTruthy();
    // Let both flush their counts and read the shared verdict.
    await sleep(1200);

    const before = a.openai.requestCount + b.openai.requestCount;
    for (let i = 0; i < 10; i++) expect((await ask(i)).model).toBe('anthropic/claude-haiku-4.5');
    expect(a.openai.requestCount + b.openai.requestCount).toBe(before);

    // The provider recovers; after the cool-down the half-open circuit lets probes through and closes.
    for (const x of [a, b]) x.openai.reset();
    await sleep(4000);
    const served: string[] = [];
    for (let i = 0; i < 12; i++) {
      served.push((await ask(i)).model);
      await sleep(250);
    }
    expect(served).toContain('openai/gpt-4o-mini');
    await sleep(1500);
    const after = [];
    for (let i = 0; i < 6; i++) after.push((await ask(i)).model);
    expect(after.every((m) => m === 'openai/gpt-4o-mini')).toBe(true);
  }, 30_000);
});

describe("one tenant's failing own key (reliability T23)", () => {
  let t: TestApp;
  let own: FakeOpenAiServer;

  beforeAll(async () => {
    t = await startTestApp({ ...env, ALLOW_PRIVATE_PROVIDER_URLS: 'true' }, { billingWorker: false });
    own = new FakeOpenAiServer({ apiKey: 'sk-own-circuit-0001' });
    await own.start();
  });
  afterAll(async () => {
    await Promise.all([t?.close(), own?.close()]);
  });

  it("opens that key's circuit only: the platform's for the same model stays closed for everyone", async () => {
    const a = await t.signup();
    const b = await t.signup();
    for (const s of [a, b]) expect((await t.grant(s.tenantId, 5)).status).toBe(201);
    const pk = await call(t.url, 'POST', '/api/provider-keys', { token: a.token, body: { provider: 'openai', api_key: 'sk-own-circuit-0001', base_url: `${own.baseUrl}/v1`, priority: 'first' } });
    expect(pk.status).toBe(201);
    // A lets the platform stand in for its own key (only then is an open own key moved back).
    expect((await call(t.url, 'PUT', '/api/routing', { token: a.token, body: { byok_fallback_to_platform: true } })).status).toBe(200);
    await sleep(100);
    own.setDefaults({ status: 500 });
    const ask = (apiKey: string, i: number) =>
      new OpenAI({ baseURL: `${t.url}/v1`, apiKey, maxRetries: 0 }).chat.completions.create({
        model: 'openai/gpt-4o-mini',
        models: ['anthropic/claude-haiku-4.5'],
        messages: [{ role: 'user', content: `q${i}` }],
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    // Tenant A's own key fails every call; its requests are served after it.
    for (let i = 0; i < 12; i++) await ask(a.apiKey, i);
    const ownCalls = own.requestCount;
    expect(ownCalls).toBeGreaterThanOrEqual(10);
    await sleep(1200);
    // A's key is now tried after the platform (its circuit is open): A is served at once ...
    const platformCalls = t.openai.requestCount;
    expect((await ask(a.apiKey, 100)).model).toBe('openai/gpt-4o-mini');
    expect(own.requestCount).toBe(ownCalls);
    // ... and tenant B is still served by the platform's gpt-4o-mini: that circuit never opened.
    for (let i = 0; i < 5; i++) expect((await ask(b.apiKey, i)).model).toBe('openai/gpt-4o-mini');
    expect(t.openai.requestCount).toBe(platformCalls + 6);
  }, 30_000);

  it('keeps an open own key first when the tenant does not let the platform stand in: its 429 stays the answer', async () => {
    const c = await t.signup();
    expect((await t.grant(c.tenantId, 5)).status).toBe(201);
    const limited = new FakeOpenAiServer({ apiKey: 'sk-own-circuit-0002' });
    await limited.start();
    try {
      expect((await call(t.url, 'POST', '/api/provider-keys', { token: c.token, body: { provider: 'openai', api_key: 'sk-own-circuit-0002', base_url: `${limited.baseUrl}/v1`, priority: 'first' } })).status).toBe(201);
      limited.setDefaults({ status: 429, retryAfter: 0 });
      const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: c.apiKey, maxRetries: 0 });
      const ask = () => client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
      for (let i = 0; i < 12; i++) expect(((await ask()) as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
      await sleep(1200);
      const platformCalls = t.openai.requestCount;
      const calls = limited.requestCount;
      // The key's circuit is open by now; still its own limit answers, and the platform is not used.
      expect(((await ask()) as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
      expect(limited.requestCount).toBeGreaterThan(calls);
      expect(t.openai.requestCount).toBe(platformCalls);
    } finally {
      await limited.close();
    }
  }, 30_000);
});
