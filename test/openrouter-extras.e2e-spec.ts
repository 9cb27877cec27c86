import { call as adminCall } from './support/admin-api';
import { ADMIN_TOKEN, fundedTenant, postChat, startTestApp, type TestApp } from './support/test-app';

/**
 * Clients that point the OpenAI SDK at the gateway with OpenRouter's extras: its own request
 * fields, its reasoning object, its provider names and sort object, and OpenAI's streamed usage rule.
 */
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  t.openai.reset().setDefaults({});
  t.anthropic.reset();
  t.gemini.reset();
});

/** The request a reviewer sent: OpenRouter's own fields and its open-model sampling parameters. */
const EXTRAS = {
  usage: { include: true },
  reasoning: { effort: 'high' },
  transforms: ['middle-out'],
  route: 'fallback',
  plugins: [{ id: 'web' }],
  min_p: 0.1,
  top_a: 0.2,
  repetition_penalty: 1.1,
};

const put = (token: string, path: string, body: unknown) =>
  fetch(`${t.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** What a fake upstream was last sent. */
const lastBody = (fake: { lastRequest(): { body: unknown } | undefined }) => (fake.lastRequest()?.body ?? {}) as Record<string, unknown>;

type Chunk = { choices: { delta: Record<string, unknown>; finish_reason: string | null }[]; usage?: unknown };
const chunksOf = (sse: string): Chunk[] =>
  sse
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice(6)) as Chunk);

describe("OpenRouter's request fields", () => {
  it('reach no OpenAI-family provider; sampling parameters it lacks are dropped with require_parameters false, refused by default', async () => {
    const { apiKey } = await fundedTenant(t);
    const served = await postChat(t, apiKey, { ...EXTRAS, provider: { require_parameters: false } });
    expect(served.status).toBe(200);
    const sent = lastBody(t.openai);
    for (const f of ['usage', 'reasoning', 'transforms', 'route', 'plugins', 'min_p', 'top_a', 'repetition_penalty', 'provider']) expect(sent).not.toHaveProperty(f);
    // gpt-4o-mini does not reason: the reasoning object is permission to, ignored there as on OpenRouter.
    expect(sent).not.toHaveProperty('reasoning_effort');
    // Usage and cost come back without asking.
    expect(await served.json()).toMatchObject({ usage: { prompt_tokens: expect.any(Number), cost: expect.any(Number) } });

    const refused = await postChat(t, apiKey, EXTRAS);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { param: 'min_p' } });
  });

  it('provider.require_parameters true refuses what a tenant whose policy is drop would drop', async () => {
    const { apiKey, token } = await fundedTenant(t);
    expect((await put(token, '/api/routing', { unsupported_params: 'drop' })).status).toBe(200);
    expect((await postChat(t, apiKey, { repetition_penalty: 1.1 })).status).toBe(200);
    expect(lastBody(t.openai)).not.toHaveProperty('repetition_penalty');
    const refused = await postChat(t, apiKey, { repetition_penalty: 1.1, provider: { require_parameters: true } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: 'unsupported_parameter', param: 'repetition_penalty' } });
  });

  it('sends the developer role to DeepSeek as system', async () => {
    const { apiKey } = await fundedTenant(t);
    const r = await postChat(t, apiKey, { model: 'deepseek/deepseek-chat', messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: 'hi' }] });
    expect(r.status).toBe(200);
    expect(lastBody(t.openai).messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }]);
  });
});

describe("OpenRouter's reasoning object", () => {
  const claude = 'anthropic/claude-sonnet-4.5';

  it('thinks on Anthropic with the budget asked for, and answers without reasoning when excluded, streamed and not', async () => {
    const { apiKey } = await fundedTenant(t);
    t.anthropic.enqueue({ text: 'Hi', thinking: 'Let me think' });
    const plain = await postChat(t, apiKey, { model: claude, max_tokens: 8000, reasoning: { max_tokens: 3000 } });
    expect(plain.status).toBe(200);
    expect(lastBody(t.anthropic).thinking).toEqual({ type: 'enabled', budget_tokens: 3000 });
    expect(((await plain.json()) as { choices: { message: { reasoning?: string } }[] }).choices[0].message.reasoning).toBe('Let me think');

    t.anthropic.enqueue({ text: 'Hi', thinking: 'Let me think' });
    const excluded = await postChat(t, apiKey, { model: claude, reasoning: { effort: 'low', exclude: true } });
    expect(lastBody(t.anthropic).thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    // No readable reasoning; the signed, emptied detail stays for a tool loop to echo.
    expect(((await excluded.json()) as { choices: { message: unknown }[] }).choices[0].message).toEqual({
      role: 'assistant',
      content: 'Hi',
      reasoning_details: [{ type: 'reasoning.text', text: '', signature: 'fake-signature', format: 'anthropic-claude-v1', index: 0 }],
    });

    t.anthropic.enqueue({ text: 'Hi there', thinking: 'Let me think' });
    const streamed = await postChat(t, apiKey, { model: claude, stream: true, stream_options: { include_usage: true }, reasoning: { enabled: true, exclude: true } });
    const chunks = chunksOf(await streamed.text());
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hi there');
    for (const choice of chunks.flatMap((c) => c.choices)) {
      expect(choice.delta).not.toHaveProperty('reasoning');
      for (const d of (choice.delta as { reasoning_details?: { text?: string; signature?: string }[] }).reasoning_details ?? []) expect([d.text, typeof d.signature]).toEqual(['', 'string']);
    }
  });

  it('gives Gemini 2.5 its thinking budget', async () => {
    const { apiKey } = await fundedTenant(t);
    expect((await postChat(t, apiKey, { model: 'google/gemini-2.5-flash', reasoning: { max_tokens: 2500 } })).status).toBe(200);
    expect(lastBody(t.gemini)).toMatchObject({ generationConfig: { thinkingConfig: { thinkingBudget: 2500, includeThoughts: true } } });
  });
});

describe('streamed usage', () => {
  it('puts usage: null on every chunk but the final usage chunk when include_usage is set', async () => {
    const { apiKey } = await fundedTenant(t);
    const r = await postChat(t, apiKey, { stream: true, stream_options: { include_usage: true } });
    const chunks = chunksOf(await r.text());
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
  });
});

describe("OpenRouter's provider preferences", () => {
  it("take provider names as OpenRouter writes them, refuse unknown ones naming the entry, and take sort's object form", async () => {
    const { apiKey } = await fundedTenant(t);
    const run = Date.now().toString(36);
    const [base, twin] = [`openai/gw-or-${run}`, `deepseek/gw-or-${run}`];
    const model = (id: string, canonical?: string) => ({ id, upstream_id: 'gpt-4o-mini', context_length: 32000, max_output_tokens: 4000, pricing: { input: '1', output: '2' }, ...(canonical ? { canonical } : {}) });
    try {
      expect((await adminCall(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: model(base) })).status).toBe(201);
      expect((await adminCall(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: model(twin, base) })).status).toBe(201);
      const ask = (provider: object) => postChat(t, apiKey, { model: base, provider });
      // The catalog cache picks the new models up within its refresh.
      for (let i = 0; i < 100 && (await ask({ order: ['deepseek'] })).headers.get('x-gateway-model') !== twin; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await ask({ order: ['DeepSeek'] })).headers.get('x-gateway-model')).toBe(twin);
      // A deny-list must deny: "OpenAI" is the gateway's openai.
      expect((await ask({ ignore: ['OpenAI'] })).headers.get('x-gateway-model')).toBe(twin);
      expect((await ask({ only: ['Anthropic', 'OpenAI'] })).headers.get('x-gateway-model')).toBe(base);
    } finally {
      await t.prisma.catalogModel.deleteMany({ where: { id: { in: [twin, base] } } });
    }
    // A provider the gateway never calls changes nothing in ignore or order; an only of none it knows serves nothing.
    expect((await postChat(t, apiKey, { provider: { ignore: ['DeepInfra'], order: ['Azure', 'OpenAI', 'DeepInfra'] } })).status).toBe(200);
    const unknown = await postChat(t, apiKey, { provider: { only: ['DeepInfra'] } });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { code: 'invalid_body', param: 'provider.only[0]' } });

    expect((await postChat(t, apiKey, { provider: { sort: { by: 'price', partition: 'none' } } })).status).toBe(200);
    const badSort = await postChat(t, apiKey, { provider: { sort: { by: 'cheapest' } } });
    expect(badSort.status).toBe(400);
    expect(await badSort.json()).toMatchObject({ error: { code: 'invalid_body', param: 'provider.sort.by' } });
    const badString = await postChat(t, apiKey, { provider: { sort: 'cheapest' } });
    expect([badString.status, ((await badString.json()) as { error: { param: string } }).error.param]).toEqual([400, 'provider.sort']);
  });
});
