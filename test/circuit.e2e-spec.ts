import OpenAI from 'openai';
import { startTestApp, type TestApp } from './support/test-app';

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
