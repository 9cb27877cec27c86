import Anthropic from '@anthropic-ai/sdk';
import { FakeOpenAiServer } from '@gw/testing';
import { call } from './support/admin-api';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * `POST /v1/messages` (Anthropic Messages in and out) served by other providers' upstreams, through
 * the official Anthropic SDK where the SDK can say it: what Claude Code sends must be served, and
 * what it gets back must be a valid Anthropic message.
 */
jest.setTimeout(60_000);
let t: TestApp;
const OWN_OPENAI = 'sk-tenant-own-openai-key-5555';
let ownOpenAi: FakeOpenAiServer;

beforeAll(async () => {
  t = await startTestApp({ ALLOW_PRIVATE_PROVIDER_URLS: 'true' }, { billingWorker: false });
  ownOpenAi = new FakeOpenAiServer({ apiKey: OWN_OPENAI });
  await ownOpenAi.start();
});
afterAll(async () => {
  await Promise.all([t?.close(), ownOpenAi?.close()]);
});
afterEach(() => {
  t.openai.reset().setDefaults({});
  t.anthropic.reset();
  t.gemini.reset();
  ownOpenAi.reset();
});

async function tenant(settings?: object) {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, 5)).status).toBe(201);
  if (settings) {
    expect((await call(t.url, 'PUT', '/api/routing', { token: s.token, body: settings })).status).toBe(200);
  }
  return { ...s, client: new Anthropic({ baseURL: t.url, apiKey: s.apiKey, maxRetries: 0 }) };
}

const post = (apiKey: string, path: string, body: unknown) =>
  fetch(`${t.url}${path}`, { method: 'POST', headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body: JSON.stringify(body) });

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const usageChunk = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 30, completion_tokens: 20, total_tokens: 50 } })}\n\n`;
const openTool = (index: number, id: string, name: string) => chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] });
const toolArgs = (index: number, text: string) => chunk({ tool_calls: [{ index, function: { arguments: text } }] });
const tools: Anthropic.Tool[] = [
  { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
  { name: 'get_time', input_schema: { type: 'object', properties: { tz: { type: 'string' } } } },
];

describe('parallel tool calls from an OpenAI-format upstream', () => {
  it('streams interleaved calls (both opened, then the arguments of each) as a valid message, logged as served', async () => {
    const { client, tenantId } = await tenant();
    t.openai.enqueue({
      rawBody:
        chunk({ role: 'assistant', content: '' }) +
        openTool(0, 'call_a', 'get_weather') +
        openTool(1, 'call_b', 'get_time') +
        toolArgs(0, '{"city":') +
        toolArgs(0, '"Paris"}') +
        toolArgs(1, '{"tz":') +
        toolArgs(1, '"CET"}') +
        chunk({}, 'tool_calls') +
        usageChunk +
        'data: [DONE]\n\n',
    });
    const final = await client.messages.stream({ model: 'openai/gpt-4o-mini', max_tokens: 200, tools, messages: [{ role: 'user', content: 'Weather and time in Paris?' }] }).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_b', name: 'get_time', input: { tz: 'CET' } },
    ]);
    await t.drain();
    expect(await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } })).toMatchObject({ status: 200, finishReason: 'tool_calls' });
  });

  it('records a stream the converter had to end with an error as a failure, not a 200', async () => {
    const { apiKey, tenantId } = await tenant();
    // Arguments resuming for a call whose block another call's arguments already closed.
    t.openai.enqueue({
      rawBody: chunk({ role: 'assistant', content: '' }) + openTool(0, 'a', 'get_weather') + toolArgs(0, '{"city":') + openTool(1, 'b', 'get_time') + toolArgs(1, '{}') + toolArgs(0, '"Paris"}') + chunk({}, 'tool_calls') + usageChunk + 'data: [DONE]\n\n',
    });
    const res = await post(apiKey, '/v1/messages', { model: 'openai/gpt-4o-mini', max_tokens: 200, stream: true, tools, messages: [{ role: 'user', content: 'go' }] });
    const body = await res.text();
    expect(body).not.toContain('message_stop');
    const last = body.trim().split('\n\n').pop()!;
    expect(last.split('\n')[0]).toBe('event: error');
    await t.drain();
    expect(await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } })).toMatchObject({ status: 502, errorCode: 'upstream_bad_response' });
  });
});

describe('stop_reason', () => {
  it('is tool_use when a compatible vendor finishes tool calls with stop, streamed and not', async () => {
    const { client } = await tenant();
    const ask = { model: 'openai/gpt-4o-mini', max_tokens: 200, tools, messages: [{ role: 'user' as const, content: 'Weather?' }] };
    t.openai.enqueue({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], finishReason: 'stop', times: 2 });
    expect((await client.messages.create(ask)).stop_reason).toBe('tool_use');
    expect((await client.messages.stream(ask).finalMessage()).stop_reason).toBe('tool_use');
  });
});

describe('errors', () => {
  it('refuses client_names on /v1/chat/completions (the /v1/messages mapping sets it)', async () => {
    const { apiKey } = await tenant();
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'deepseek/deepseek-chat', reasoning_effort: 'high', client_names: { reasoning_effort: 'thinking' }, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: 'client_names' } });
    expect(t.openai.requests).toHaveLength(0);
  });

  it("answers a refused own (BYOK) key with 500 api_error naming the key, not 401 (Claude Code would ask its user to log in again)", async () => {
    const s = await tenant();
    const pk = (await call(t.url, 'POST', '/api/provider-keys', { token: s.token, body: { provider: 'openai', api_key: 'sk-tenant-wrong-key-000000', base_url: `${ownOpenAi.baseUrl}/v1`, priority: 'first' } })).body;
    const res = await post(s.apiKey, '/v1/messages', { model: 'openai/gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining(pk.id) } });
    expect(ownOpenAi.requests.length).toBeGreaterThanOrEqual(1);
    expect(t.openai.requests).toHaveLength(0);
  });
});

describe('parameters the upstream lacks', () => {
  it('serves thinking on deepseek-chat (not a reasoning model in the catalog) under the reject policy, without reasoning_effort upstream', async () => {
    const { client } = await tenant();
    t.openai.enqueue({ text: 'Thought about it.' });
    const msg = await client.messages.create({ model: 'deepseek/deepseek-chat', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: 'Hi' }] });
    expect(msg.content).toMatchObject([{ type: 'text', text: 'Thought about it.' }]);
    const sent = t.openai.lastRequest()!.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty('reasoning_effort');
    expect(sent).not.toHaveProperty('client_names');
  });

  it('asks a model the catalog does not list as reasoning (gpt-4o) without reasoning_effort, and a reasoning one (o4-mini) with it', async () => {
    const { client } = await tenant();
    const ask = (model: string) => client.messages.create({ model, max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: 'Hi' }] });
    t.openai.enqueue({ text: 'plain' });
    await ask('openai/gpt-4o');
    expect(t.openai.lastRequest()!.body).not.toHaveProperty('reasoning_effort');
    t.openai.enqueue({ text: 'thought' });
    await ask('openai/o4-mini');
    expect(t.openai.lastRequest()!.body).toHaveProperty('reasoning_effort');
  });

  it('carries top_k to Gemini as topK, and refuses it naming top_k for OpenAI (reject) or drops it (drop)', async () => {
    const { client, apiKey } = await tenant();
    // top_k is absent from SDK 1.x types (it is a 2023-06-01 field), but clients still send it.
    await client.messages.create({ model: 'google/gemini-2.5-flash', max_tokens: 100, top_k: 40, messages: [{ role: 'user', content: 'Hi' }] } as Anthropic.MessageCreateParamsNonStreaming);
    expect((t.gemini.lastRequest()!.body as { generationConfig: Record<string, unknown> }).generationConfig).toMatchObject({ topK: 40 });
    const refused = await post(apiKey, '/v1/messages', { model: 'openai/gpt-4o-mini', max_tokens: 100, top_k: 40, messages: [{ role: 'user', content: 'Hi' }] });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining("'top_k'") } });
    expect(t.openai.requests).toHaveLength(0);
    const dropping = await tenant({ unsupported_params: 'drop' });
    await dropping.client.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 100, top_k: 40, messages: [{ role: 'user', content: 'Hi' }] } as Anthropic.MessageCreateParamsNonStreaming);
    expect(t.openai.lastRequest()!.body).not.toHaveProperty('top_k');
  });

  it("holds stop_sequences to the provider's limit (OpenAI 4, Gemini 5), naming stop_sequences", async () => {
    const { apiKey } = await tenant();
    const five = ['1', '2', '3', '4', '5'];
    const toOpenAi = await post(apiKey, '/v1/messages', { model: 'openai/gpt-4o-mini', max_tokens: 100, stop_sequences: five, messages: [{ role: 'user', content: 'Hi' }] });
    expect(toOpenAi.status).toBe(400);
    expect(await toOpenAi.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining("'stop_sequences'") } });
    expect(t.openai.requests).toHaveLength(0);
    expect((await post(apiKey, '/v1/messages', { model: 'google/gemini-2.5-flash', max_tokens: 100, stop_sequences: five, messages: [{ role: 'user', content: 'Hi' }] })).status).toBe(200);
    const toGemini = await post(apiKey, '/v1/messages', { model: 'google/gemini-2.5-flash', max_tokens: 100, stop_sequences: [...five, '6'], messages: [{ role: 'user', content: 'Hi' }] });
    expect(toGemini.status).toBe(400);
    expect(await toGemini.json()).toMatchObject({ error: { message: expect.stringContaining("'stop_sequences'") } });
    const dropping = await tenant({ unsupported_params: 'drop' });
    await dropping.client.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 100, stop_sequences: five, messages: [{ role: 'user', content: 'Hi' }] });
    expect((t.openai.lastRequest()!.body as { stop: string[] }).stop).toEqual(['1', '2', '3', '4']);
  });
});

describe('tool results', () => {
  it('sends a tool_result with is_error to Gemini as {"error": ...}, and to OpenAI as text saying so', async () => {
    const { client } = await tenant();
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', is_error: true, content: 'service down' }] },
    ];
    await client.messages.create({ model: 'google/gemini-2.5-flash', max_tokens: 100, tools, messages });
    const contents = (t.gemini.lastRequest()!.body as { contents: Array<{ parts: Array<Record<string, unknown>> }> }).contents;
    expect(contents[2].parts).toEqual([{ functionResponse: { name: 'get_weather', id: 'toolu_1', response: { error: 'service down' } } }]);
    t.openai.enqueue({ text: 'Sorry.' });
    await client.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 100, tools, messages });
    expect((t.openai.lastRequest()!.body as { messages: unknown[] }).messages[2]).toEqual({ role: 'tool', tool_call_id: 'toolu_1', content: 'Error: service down' });
  });
});

describe('reasoning in tool loops (DeepSeek, Moonshot)', () => {
  it("gives the provider its reasoning back on the next turn's tool-calling assistant message, streamed and not", async () => {
    const { client } = await tenant();
    const ask = { model: 'deepseek/deepseek-chat', max_tokens: 500, tools, messages: [{ role: 'user' as const, content: 'Weather in Paris?' }] };
    for (const stream of [true, false]) {
      t.openai.enqueue({ thinking: 'The user wants the weather in Paris.', text: 'Checking.', toolCalls: [{ id: 'call_w', name: 'get_weather', arguments: { city: 'Paris' } }] });
      const first = stream ? await client.messages.stream(ask).finalMessage() : await client.messages.create(ask);
      expect(first.content.map((b) => b.type)).toEqual(['text', 'redacted_thinking', 'tool_use']);
      t.openai.enqueue({ text: 'Sunny.' });
      await client.messages.create({ ...ask, messages: [...ask.messages, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_w', content: '21C' }] }] });
      const sent = (t.openai.lastRequest()!.body as { messages: Array<Record<string, unknown>> }).messages;
      expect(sent[1]).toMatchObject({ role: 'assistant', reasoning_content: 'The user wants the weather in Paris.', tool_calls: [{ id: 'call_w' }] });
      expect(sent[1]).not.toHaveProperty('reasoning');
    }
  });
});

describe('POST /v1/messages/count_tokens', () => {
  it('counts the prompt locally, authenticated like /v1/messages, calling no provider and charging nothing', async () => {
    const { client, apiKey, tenantId } = await tenant();
    const before = (await t.credits.getCredits(tenantId))!.balance;
    const short = await client.messages.countTokens({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
    const long = await client.messages.countTokens({ model: 'openai/gpt-4o-mini', system: 'Be terse.', tools, messages: [{ role: 'user', content: 'Hello there, what is the weather in Paris tomorrow?' }] });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
    expect(t.openai.requests).toHaveLength(0);
    await t.drain();
    expect(await t.prisma.requestLog.count({ where: { tenantId } })).toBe(0);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(before);

    const unauthenticated = await post('sk-gw-wrong', '/v1/messages/count_tokens', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
    expect(unauthenticated.status).toBe(401);
    expect(await unauthenticated.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const invalid = await post(apiKey, '/v1/messages/count_tokens', { model: 'openai/gpt-4o-mini', messages: [] });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const empty = await fetch(`${t.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' } });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it("answers the rest of Anthropic's API under /v1/messages/ with Anthropic's 404", async () => {
    const { apiKey } = await tenant();
    const res = await post(apiKey, '/v1/messages/batches', { requests: [] });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: expect.stringContaining('/v1/messages/batches') } });
  });
});
