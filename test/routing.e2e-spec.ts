import OpenAI from 'openai';
import { FakeOpenAiServer } from '@gw/testing';
import { freePort } from '@gw/core';
import { costMicros } from '@gw/metering';
import { call as adminCall } from './support/admin-api';
import { ADMIN_TOKEN, postChat, startTestApp, type TestApp } from './support/test-app';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '400', ALLOW_PRIVATE_PROVIDER_URLS: 'true' }, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  t.openai.reset().setDefaults({});
  t.anthropic.reset();
  t.gemini.reset();
});

async function tenant(usd = 5) {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, usd)).status).toBe(201);
  return { ...s, client: new OpenAI({ baseURL: `${t.url}/v1`, apiKey: s.apiKey, maxRetries: 0 }) };
}

async function generation(apiKey: string, id: string) {
  await t.drain();
  const r = await fetch(`${t.url}/v1/generation?id=${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { data: { attempts: { model: string; status: number; error?: string }[]; model: string; provider: string; routing: string[] } }).data;
}

const put = (token: string, path: string, body: unknown) =>
  fetch(`${t.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('failover before the first byte', () => {
  it('retries a 429 (honouring Retry-After), then falls over to the next model, visible in headers and the record', async () => {
    const { client, apiKey } = await tenant();
    t.openai.enqueue({ status: 429, retryAfter: 0 }, { status: 429, retryAfter: 0 });
    t.anthropic.enqueue({ text: 'served by the fallback' });
    const { data: r, response } = await client.chat.completions
      .create({ model: 'openai/gpt-4o-mini', models: ['anthropic/claude-haiku-4.5'], messages: [{ role: 'user', content: 'hi' }] } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    expect(r.choices[0].message.content).toBe('served by the fallback');
    expect((r as unknown as { provider: string }).provider).toBe('anthropic');
    expect(response.headers.get('x-gateway-provider')).toBe('anthropic');
    expect(response.headers.get('x-gateway-attempts')).toBe('3');
    expect(t.openai.requests).toHaveLength(2);
    const g = await generation(apiKey, r.id);
    expect(g.attempts.map((a) => [a.model, a.status, a.error ?? null])).toEqual([
      ['openai/gpt-4o-mini', 429, 'upstream_rate_limited'],
      ['openai/gpt-4o-mini', 429, 'upstream_rate_limited'],
      ['anthropic/claude-haiku-4.5', 200, null],
    ]);
    expect(g.model).toBe('anthropic/claude-haiku-4.5');
  });

  it('falls over at once when a Retry-After would outlast the request deadline', async () => {
    const { apiKey } = await tenant();
    t.openai.enqueue({ status: 429, retryAfter: 4 });
    t.anthropic.enqueue({ text: 'served by the fallback' });
    const started = Date.now();
    const res = await postChat(t, apiKey, { models: ['anthropic/claude-haiku-4.5'] }, { 'x-gateway-total-timeout-ms': '2000' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { provider: string }).provider).toBe('anthropic');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(t.openai.requests).toHaveLength(1);
  });

  it('falls over when a stream sends headers and keep-alives but no content in time', async () => {
    const { apiKey } = await tenant();
    // A comment at once, then 3 s to each next event: the headers and the comment come in time, content does not.
    t.openai.enqueue({ comments: true, chunkDelayMs: 3000, times: 2 });
    t.anthropic.enqueue({ text: 'streamed by the fallback' });
    const started = Date.now();
    const res = await postChat(t, apiKey, { stream: true, models: ['anthropic/claude-haiku-4.5'] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('anthropic');
    const text = await res.text();
    expect(text).toContain('streamed');
    expect(text).toContain('data: [DONE]');
    // Two tries of ~400 ms each, then the fallback: well before the primary's first content at 3 s.
    expect(Date.now() - started).toBeLessThan(2500);
    expect(t.openai.requests).toHaveLength(2);
  });

  it('falls over when the primary does not send its first byte in time', async () => {
    const { client } = await tenant();
    t.openai.enqueue({ headerDelayMs: 2000, times: 2 });
    t.anthropic.enqueue({ text: 'fast one' });
    const started = Date.now();
    const r = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', models: ['anthropic/claude-haiku-4.5'], messages: [{ role: 'user', content: 'hi' }] } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(r.choices[0].message.content).toBe('fast one');
    // Two tries of ~400 ms each (undici's timers are coarse), then the fallback: well under the 2 s the primary would take per try.
    expect(Date.now() - started).toBeLessThan(3500);
    expect(t.openai.requests).toHaveLength(2);
  });

  it('takes first-byte and total timeouts per request (headers) and per tenant (routing document)', async () => {
    const { apiKey, token } = await tenant();
    const call = (headers: Record<string, string> = {}) =>
      fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', models: ['anthropic/claude-haiku-4.5'], messages: [{ role: 'user', content: 'hi' }] }),
      });
    // The app's first-byte timeout is 400 ms; a request may allow a slow upstream more time.
    t.openai.enqueue({ headerDelayMs: 700, text: 'slow but allowed' });
    const slow = await call({ 'x-gateway-first-byte-timeout-ms': '3000' });
    expect(((await slow.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toBe('slow but allowed');
    const bad = await call({ 'x-gateway-first-byte-timeout-ms': 'soon' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { param: 'x-gateway-first-byte-timeout-ms' } });

    // A tenant-wide total timeout bounds the whole exchange, fallbacks included: 504.
    expect((await put(token, '/api/routing', { timeouts: { first_byte_ms: 5000, total_ms: 300 } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    t.openai.enqueue({ headerDelayMs: 1500 });
    const started = Date.now();
    const cut = await call();
    expect(cut.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1400);
  });

  it('falls over when a stream fails before its first content (an error event, a cut), and the client sees only the stream that served', async () => {
    const { apiKey } = await tenant();
    // Both after the role chunk, which the gateway holds back until content arrives.
    t.openai.enqueue({ errorAfterEvents: 1, errorType: 'server_error' }, { cutAfterEvents: 1 });
    t.anthropic.enqueue({ text: 'served by the fallback' });
    // A model no other test here uses: its two failures count against its circuit.
    const res = await postChat(t, apiKey, { model: 'openai/gpt-4.1-mini', models: ['anthropic/claude-haiku-4.5'], stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-provider')).toBe('anthropic');
    expect(res.headers.get('x-gateway-attempts')).toBe('3');
    const text = await res.text();
    expect(text).toContain('[DONE]');
    expect(text).not.toContain('"error"');
    const chunks = text.split('\n\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)) as { id: string; model: string; choices: { delta: { role?: string; content?: string } }[] });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('served by the fallback');
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set(['anthropic/claude-haiku-4.5']));
    expect(chunks.filter((c) => c.choices[0]?.delta.role === 'assistant')).toHaveLength(1);
    expect(t.openai.requests).toHaveLength(2);
    const g = await generation(apiKey, chunks[0].id);
    expect(g.attempts.map((a) => [a.model, a.status, a.error !== undefined])).toEqual([
      ['openai/gpt-4.1-mini', 200, true],
      ['openai/gpt-4.1-mini', 200, true],
      ['anthropic/claude-haiku-4.5', 200, false],
    ]);
  });

  it('never falls over after the first byte: a cut stream ends with an error event and no fallback call', async () => {
    const { apiKey } = await tenant();
    t.openai.enqueue({ text: 'a b c d e f', deltas: 6, cutAfterEvents: 3 });
    const res = await postChat(t, apiKey, { models: ['anthropic/claude-haiku-4.5'], stream: true });
    const text = await res.text();
    expect(text).not.toContain('[DONE]');
    expect(text).toContain('"error"');
    expect(t.anthropic.requests).toHaveLength(0);
  });

  it('bounds retries in flight by the retry budget, the retried call included (20 failing requests: budget 4)', async () => {
    const { apiKey } = await tenant();
    // Every call fails after 300 ms; requests start 20 ms apart, so failures come one by one.
    t.openai.enqueue({ status: 503, headerDelayMs: 300, times: 40 });
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 20));
        // A model no other test here uses: these failures open its circuit.
        const res = await postChat(t, apiKey, { model: 'openai/gpt-4o', max_tokens: 100 });
        await res.text();
        return res.status;
      }),
    );
    expect(statuses.every((s) => s >= 500)).toBe(true);
    // At most 4 retries at a time, each holding its slot for its 300 ms call: about 10 retries
    // over the 700 ms the failures span. A slot freed when the backoff ends lets nearly all 20 retry.
    expect(t.openai.requests.length).toBeGreaterThan(20);
    expect(t.openai.requests.length).toBeLessThanOrEqual(32);
  });

  it('skips a first model whose provider cannot honour a parameter for a fallback that can; 400 when none can', async () => {
    const { client, apiKey } = await tenant();
    const ask = (models?: string[]) =>
      client.chat.completions.create({ model: 'anthropic/claude-haiku-4.5', ...(models ? { models } : {}), response_format: { type: 'json_object' }, messages: [{ role: 'user', content: 'json please' }] } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    t.openai.enqueue({ text: '{"ok":true}' });
    const r = await ask(['openai/gpt-5.6-luna']);
    expect(r.model).toBe('openai/gpt-5.6-luna');
    expect(t.anthropic.requests).toHaveLength(0);
    const g = await generation(apiKey, r.id);
    expect(g.attempts).toEqual([expect.objectContaining({ model: 'anthropic/claude-haiku-4.5', status: 0, error: 'unsupported_parameter' }), expect.objectContaining({ model: 'openai/gpt-5.6-luna', status: 200 })]);

    const err = (await ask().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ code: 'unsupported_parameter', param: 'response_format' });
    expect(t.anthropic.requests).toHaveLength(0);
  });

  it('skips a fallback the balance cannot hold for a cheaper one after it', async () => {
    const { client, apiKey } = await tenant(0.01);
    t.openai.enqueue({ status: 503, times: 2 });
    // Opus at 25 USD per million output: 2000 tokens need 0.05 USD, more than the 0.01 there is.
    const r = await client.chat.completions.create({ model: 'openai/gpt-6-luna', models: ['anthropic/claude-opus-4.8', 'openai/gpt-5.6-luna'], max_tokens: 2000, messages: [{ role: 'user', content: 'hi' }] } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(r.model).toBe('openai/gpt-5.6-luna');
    expect(t.anthropic.requests).toHaveLength(0);
    const g = await generation(apiKey, r.id);
    expect(g.attempts.map((a) => [a.model, a.status, a.error])).toEqual([
      ['openai/gpt-6-luna', 503, 'upstream_unavailable'],
      ['openai/gpt-6-luna', 503, 'upstream_unavailable'],
      ['anthropic/claude-opus-4.8', 0, 'request_exceeds_budget'],
      ['openai/gpt-5.6-luna', 200, undefined],
    ]);
  });

  it('does not retry or fall over on a client error (400)', async () => {
    const { client } = await tenant();
    // A model no other test fails: an open circuit would put it after the fallback.
    t.openai.enqueue({ status: 400, errorMessage: 'bad' });
    const err = await client.chat.completions
      .create({ model: 'openai/gpt-6.1-terra', models: ['anthropic/claude-haiku-4.5'], messages: [{ role: 'user', content: 'x' }] } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect(t.openai.requests).toHaveLength(1);
    expect(t.anthropic.requests).toHaveLength(0);
  });
});

describe('a provider that does not know the model (404)', () => {
  it('falls over at once without retrying it, and answers 404 in the API shape when no one knows it', async () => {
    const { client, apiKey } = await tenant();
    t.openai.enqueue({ status: 404, errorMessage: 'The model `gpt-6.1-terra` does not exist' });
    const served = await client.chat.completions.create({ model: 'openai/gpt-6.1-terra', models: ['anthropic/claude-haiku-4.5'], messages: [{ role: 'user', content: 'x' }] } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(served.model).toBe('anthropic/claude-haiku-4.5');
    expect(t.openai.requests).toHaveLength(1);
    expect(t.anthropic.requests).toHaveLength(1);
    const record = await generation(apiKey, served.id);
    expect(record.attempts.map((a) => [a.status, a.error ?? null])).toEqual([
      [404, 'not_found'],
      [200, null],
    ]);

    t.openai.reset();
    t.anthropic.reset();
    t.openai.enqueue({ status: 404, errorMessage: 'The model `gpt-6.1-terra` does not exist' });
    t.anthropic.enqueue({ status: 404, errorMessage: 'model: claude-haiku-4-5' });
    const err = await client.chat.completions
      .create({ model: 'openai/gpt-6.1-terra', models: ['anthropic/claude-haiku-4.5'], messages: [{ role: 'user', content: 'x' }] } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect([(err as InstanceType<typeof OpenAI.APIError>).status, (err as InstanceType<typeof OpenAI.APIError>).code]).toEqual([404, 'not_found']);
    expect([t.openai.requests.length, t.anthropic.requests.length]).toEqual([1, 1]);
  });
});

describe('tenant routing rules', () => {
  it('sends short prompts to the cheaper model, refuses or downgrades over a max cost, visible in the record', async () => {
    const { client, apiKey, token } = await tenant();
    // A model no other test here fails: a circuit opened by the failover tests would reorder the plan.
    const doc = {
      aliases: { smart: { strategy: 'ordered', targets: [{ model: 'anthropic/claude-sonnet-4.5' }, { model: 'openai/gpt-5.6-luna' }] } },
      rules: [
        { type: 'size', name: 'short prompts', models: ['anthropic/claude-sonnet-4.5'], max_prompt_tokens: 500, target: 'openai/gpt-5.6-luna' },
        { type: 'max_cost', name: 'cap', max_usd: 0.05 },
      ],
    };
    const saved = await put(token, '/api/routing', doc);
    expect(saved.status).toBe(200);

    const short = await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 100, messages: [{ role: 'user', content: 'short' }] });
    expect(short.model).toBe('openai/gpt-5.6-luna');
    // About 250 tokens (1,500 bytes) is short too: the rule reads tokens, not the bytes of the hold's bound.
    const mid = await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 100, messages: [{ role: 'user', content: 'hello '.repeat(250) }] });
    expect(mid.model).toBe('openai/gpt-5.6-luna');
    const g = await generation(apiKey, short.id);
    expect(g.model).toBe('openai/gpt-5.6-luna');
    expect(g.routing.join(' ')).toContain('rule "short prompts"');

    // A long prompt stays on Sonnet, but 20k output tokens of Sonnet exceed the 0.05 USD cap: refused.
    const long = 'word '.repeat(600);
    const refused = await client.chat.completions
      .create({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 20000, messages: [{ role: 'user', content: long }] })
      .catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((refused as InstanceType<typeof OpenAI.APIError>).message).toContain('cap');

    // Through the alias the cheaper target fits under the cap: downgraded.
    const down = await client.chat.completions.create({ model: 'smart', max_tokens: 20000, messages: [{ role: 'user', content: long }] });
    expect(down.model).toBe('openai/gpt-5.6-luna');
    expect((await generation(apiKey, down.id)).routing.join(' ')).toContain('max cost');
  });
});

describe("a key's allowed_models and the routing preferences", () => {
  it('lets a key allowed an alias call it, keeps a key to the providers it is allowed, and answers 404 when preferences exclude every provider', async () => {
    const { token, apiKey } = await tenant();
    expect((await put(token, '/api/routing', { aliases: { 'my-fast': { strategy: 'ordered', targets: [{ model: 'openai/gpt-4o-mini' }] } } })).status).toBe(200);
    const key = async (allowed: string[]) => (await adminCall(t.url, 'POST', '/api/keys', { token, body: { name: allowed.join(' '), allowed_models: allowed } })).body.key as string;
    const aliasOnly = await key(['my-fast']);
    const viaAlias = await postChat(t, aliasOnly, { model: 'my-fast', messages: [{ role: 'user', content: 'hi' }] });
    expect(viaAlias.status).toBe(200);
    // Allowed a model by name: its equivalent at another provider is another model, not allowed.
    const run = Date.now().toString(36);
    const [base, twin] = [`openai/gw-canon-${run}`, `deepseek/gw-canon-${run}`];
    const model = (id: string, canonical?: string) => ({ id, upstream_id: 'gpt-4o-mini', context_length: 32000, max_output_tokens: 4000, pricing: { input: '1', output: '2' }, ...(canonical ? { canonical } : {}) });
    try {
      expect((await adminCall(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: model(base) })).status).toBe(201);
      expect((await adminCall(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: model(twin, base) })).status).toBe(201);
      const ask = (k: string) => postChat(t, k, { model: base, provider: { order: ['deepseek'] }, messages: [{ role: 'user', content: 'hi' }] });
      // Both keys may use the model; only the second is allowed its DeepSeek twin.
      const both = await key([base, twin]);
      for (let i = 0; i < 100 && (await ask(both)).headers.get('x-gateway-model') !== twin; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await ask(both)).headers.get('x-gateway-model')).toBe(twin);
      const named = await ask(await key([base]));
      expect([named.status, named.headers.get('x-gateway-model')]).toEqual([200, base]);
    } finally {
      await t.prisma.catalogModel.deleteMany({ where: { id: { in: [twin, base] } } });
    }
    // Preferences that leave no provider: a 404 naming provider, no Retry-After (no retry can help).
    const none = await postChat(t, apiKey, { model: 'openai/gpt-4o-mini', provider: { only: ['anthropic'] }, messages: [{ role: 'user', content: 'hi' }] });
    expect([none.status, none.headers.get('retry-after')]).toEqual([404, null]);
    expect(await none.json()).toMatchObject({ error: { code: 'not_found', param: 'provider' } });
  });
});

describe('BYOK', () => {
  const own = new FakeOpenAiServer({ apiKey: 'sk-tenant-own-key-123456' });
  beforeAll(() => own.start());
  afterAll(() => own.close());

  it("uses the tenant's own key, first, and charges only the BYOK fee", async () => {
    const { client, token, tenantId } = await tenant();
    const add = await fetch(`${t.url}/api/provider-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'openai', api_key: 'sk-tenant-own-key-123456', base_url: `${own.baseUrl}/v1`, priority: 'first' }),
    });
    expect(add.status).toBe(201);
    const body = (await add.json()) as Record<string, unknown>;
    expect(JSON.stringify(body)).not.toContain('sk-tenant-own-key-123456');
    const row = await t.prisma.providerCredential.findFirstOrThrow({ where: { tenantId } });
    expect(Buffer.from(row.ciphertext).toString('utf8')).not.toContain('sk-tenant-own-key');

    const before = (await t.credits.getCredits(tenantId))!.balance;
    own.enqueue({ promptTokens: 1000, completionTokens: 1000 });
    const r = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'mine' }] });
    expect(own.lastRequest()!.headers.authorization).toBe('Bearer sk-tenant-own-key-123456');
    expect(t.openai.requests).toHaveLength(0);
    // gpt-4o-mini: 1000 * 0.15 + 1000 * 0.6 = 750 micros at platform price; 5% fee = 38 (rounded up).
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(before - 38n);
    await t.drain();
    const log = await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId: r.id } });
    // The fee's rate card: the list prices it is a share of, and the share (T35).
    expect(log).toMatchObject({ byok: true, costMicros: 0n, byokFeeMicros: 38n, pricing: { input: 150_000, output: 600_000, byok_fee_bps: 500 } });
    const fee = await t.prisma.ledgerEntry.findUniqueOrThrow({ where: { idempotencyKey: `byok_fee:${r.id}` } });
    expect(fee).toMatchObject({ tenantId, amountMicros: -38n });
    expect(fee.description).toMatch(/^openai\/gpt-4o-mini at USD 0\.15\/M prompt, 0\.6\/M completion.*; BYOK fee 500 bps of list price$/);

  });

  it("reports a refused own key instead of spending the tenant's credits on the platform's key, unless the tenant allows it", async () => {
    const { client, token, tenantId, apiKey } = await tenant();
    const add = await fetch(`${t.url}/api/provider-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'openai', api_key: 'sk-tenant-own-key-123456', base_url: `${own.baseUrl}/v1`, priority: 'first' }),
    });
    const pkId = ((await add.json()) as { id: string }).id;
    const ask = () => client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] }).catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    const balance = async () => (await t.credits.getCredits(tenantId))!.balance;
    const before = await balance();

    // Revoked at the provider: 401 saying whose key, nothing sent on the platform's key, nothing charged.
    own.enqueue({ status: 401 });
    const refused = (await ask()) as InstanceType<typeof OpenAI.APIError>;
    expect(refused.status).toBe(401);
    expect(refused.error).toMatchObject({ code: 'upstream_auth_error', type: 'authentication_error' });
    expect(refused.message).toContain(pkId);
    expect(t.openai.requests).toHaveLength(0);
    expect(await balance()).toBe(before);
    const failed = await generation(apiKey, refused.headers!.get('x-request-id')!);
    expect(failed.attempts).toEqual([expect.objectContaining({ status: 401, byok: true })]);
    expect(failed.routing).toContain('own key refused: platform capacity not used (byok_fallback_to_platform is off)');

    // A model the own key cannot see (404): that key's answer too, never the platform's capacity.
    own.enqueue({ status: 404, errorMessage: 'The model `gpt-4o-mini` does not exist or you do not have access to it.' });
    const unseen = (await ask()) as InstanceType<typeof OpenAI.APIError>;
    expect(unseen.status).toBe(404);
    expect(unseen.message).toContain(`on your own openai key ${pkId}`);
    expect(t.openai.requests).toHaveLength(0);
    expect(await balance()).toBe(before);

    // Its quota used up (429): the provider's limit comes back, retried on the same key, never on the platform's.
    own.enqueue({ status: 429, times: 2 });
    const limited = (await ask()) as InstanceType<typeof OpenAI.APIError>;
    expect(limited.status).toBe(429);
    expect(limited.message).toContain(`on your own openai key ${pkId}`);
    own.reset();
    expect(t.openai.requests).toHaveLength(0);

    // Allowed: the platform stands in, and the request is held and charged at the platform's price, tagged.
    expect((await put(token, '/api/routing', { byok_fallback_to_platform: true })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    own.enqueue({ status: 401 });
    t.openai.enqueue({ promptTokens: 1000, completionTokens: 1000 });
    const served = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] });
    expect(t.openai.lastRequest()!.headers.authorization).toBe('Bearer sk-platform-openai');
    // gpt-4o-mini at the platform's price: 1000 * 0.15 + 1000 * 0.6 = 750 micros.
    expect(await balance()).toBe(before - 750n);
    const g = await generation(apiKey, served.id);
    expect(g.routing).toContain('fallback_from_byok');
    expect(g.attempts.map((a) => a.status)).toEqual([401, 200]);
    const log = await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId: served.id } });
    expect(log).toMatchObject({ byok: false, costMicros: 750n, byokFeeMicros: 0n });
  });
});

describe("the platform's own key refused", () => {
  it('fails over to the next provider, and with none left answers 503 no_available_provider (not the provider\'s 401 or 429)', async () => {
    const { client } = await tenant();
    // The platform's OpenAI account out of quota: no retry on it, the fallback model serves.
    t.openai.enqueue({ status: 429, errorType: 'insufficient_quota', errorMessage: 'You exceeded your current quota' });
    t.anthropic.enqueue({ text: 'served by the fallback' });
    const r = await client.chat.completions.create({ model: 'openai/gpt-6-luna', models: ['anthropic/claude-haiku-4.5'], messages: [{ role: 'user', content: 'hi' }] } as never);
    expect(r.choices[0].message.content).toBe('served by the fallback');
    expect(t.openai.requests).toHaveLength(1);

    t.openai.enqueue({ status: 401 });
    const e = (await client.chat.completions.create({ model: 'openai/gpt-6-luna', messages: [{ role: 'user', content: 'hi' }] }).catch((x: unknown) => x)) as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(503);
    expect(e.error).toMatchObject({ code: 'no_available_provider' });
    expect(e.message).toContain("platform's openai capacity is unavailable");
  });

  it('falls over on an empty answer (200 with no choices), and bills only the attempt that served (T14, T28)', async () => {
    const { client, tenantId, apiKey } = await tenant();
    // A model no other test here uses: earlier failures in this file may have opened gpt-4o-mini's circuit.
    t.openai.enqueue({ rawBody: JSON.stringify({ id: 'chatcmpl-empty', object: 'chat.completion', created: 1, model: 'gpt-4.1', choices: [], usage: { prompt_tokens: 50, completion_tokens: 0, total_tokens: 50 } }), times: 3 });
    t.anthropic.enqueue({ text: 'served by the fallback', promptTokens: 120, completionTokens: 30 });
    const before = (await t.credits.getCredits(tenantId))!.balance;
    const r = await client.chat.completions.create({ model: 'openai/gpt-4.1', models: ['anthropic/claude-haiku-4.5'], messages: [{ role: 'user', content: 'hi' }] } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(r.choices[0].message.content).toBe('served by the fallback');
    const m = await t.prisma.catalogModel.findUniqueOrThrow({ where: { id: 'anthropic/claude-haiku-4.5' } });
    const cost = costMicros({ promptTokens: 120, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 30, reasoningTokens: 0 }, { input: m.inputPrice, output: m.outputPrice, cacheRead: m.cacheReadPrice, cacheWrite: m.cacheWritePrice, cacheWrite1h: m.cacheWrite1hPrice }, 0n);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(before - cost);
    const g = await generation(apiKey, r.id);
    expect(g.attempts.map((a) => [a.model, a.error ?? null])).toEqual([
      ['openai/gpt-4.1', 'upstream_bad_response'],
      ['openai/gpt-4.1', 'upstream_bad_response'],
      ['anthropic/claude-haiku-4.5', null],
    ]);
    const usage = await t.prisma.ledgerEntry.findMany({ where: { tenantId, kind: 'usage' } });
    expect(usage.map((e) => e.amountMicros)).toEqual([-cost]);
  });

  it("falls over when a provider's address refuses connections (T14)", async () => {
    const { client, token, apiKey } = await tenant();
    // A tenant's own key on a port nothing listens on: connection refused, then the platform serves.
    const closed = await freePort();
    expect((await adminCall(t.url, 'POST', '/api/provider-keys', { token, body: { provider: 'openai', api_key: 'sk-own-refused-0001', base_url: `http://127.0.0.1:${closed}/v1`, priority: 'first' } })).status).toBe(201);
    t.openai.enqueue({ text: 'served by the platform' });
    const r = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0].message.content).toBe('served by the platform');
    const g = await generation(apiKey, r.id);
    expect(g.attempts[0]).toMatchObject({ model: 'openai/gpt-4o-mini', error: 'upstream_unavailable' });
    expect(g.attempts[g.attempts.length - 1]).toMatchObject({ model: 'openai/gpt-4o-mini', status: 200 });
  });
});
