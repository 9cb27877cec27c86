import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { costMicros } from '@gw/metering';
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;
let apiKey: string;
let tenantId: string;

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
  const s = await t.signup();
  apiKey = s.apiKey;
  tenantId = s.tenantId;
  expect((await t.grant(tenantId, 5)).status).toBe(201);
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  t.openai.reset().setDefaults({});
  t.anthropic.reset();
  t.gemini.reset();
});

const anthropic = () => new Anthropic({ baseURL: t.url, apiKey, maxRetries: 0 });
const openai = () => new OpenAI({ baseURL: `${t.url}/v1`, apiKey, maxRetries: 0 });

async function price(id: string) {
  const m = await t.prisma.catalogModel.findUniqueOrThrow({ where: { id } });
  return { input: m.inputPrice, output: m.outputPrice, cacheRead: m.cacheReadPrice, cacheWrite: m.cacheWritePrice, cacheWrite1h: m.cacheWrite1hPrice };
}

describe('POST /v1/messages with the official Anthropic SDK', () => {
  it('reaches an OpenAI-family model, non-streaming, and is charged', async () => {
    const before = (await t.credits.getCredits(tenantId))!.balance;
    t.openai.enqueue({ text: 'Hi from GPT', promptTokens: 12, completionTokens: 4 });
    const msg = await anthropic().messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] });
    expect(msg.type).toBe('message');
    expect(msg.content).toMatchObject([{ type: 'text', text: 'Hi from GPT' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage).toMatchObject({ input_tokens: 12, output_tokens: 4 });
    const sent = t.openai.lastRequest()!;
    expect((sent.body as { max_tokens?: number; max_completion_tokens?: number }).max_tokens ?? (sent.body as { max_completion_tokens: number }).max_completion_tokens).toBe(100);
    const expected = costMicros({ promptTokens: 12, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 4, reasoningTokens: 0 }, await price('openai/gpt-4o-mini'), 0n);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(before - expected);
  });

  it('streams tool use from an OpenAI-family model as Anthropic events', async () => {
    t.openai.enqueue({ toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const stream = anthropic().messages.stream({
      model: 'openai/gpt-4o-mini',
      max_tokens: 200,
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const tool = final.content.find((b) => b.type === 'tool_use');
    expect(tool).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });
  });

  it('streams from a Gemini model with thinking and tools, and from Anthropic end to end with exact cache usage', async () => {
    t.gemini.enqueue({ text: 'Sunny', deltas: 2, promptTokens: 20, completionTokens: 3 });
    const g = await anthropic().messages.stream({ model: 'google/gemini-2.5-flash', max_tokens: 100, messages: [{ role: 'user', content: 'Weather?' }] }).finalMessage();
    expect(g.content[0]).toMatchObject({ type: 'text', text: 'Sunny' });
    expect(t.gemini.lastRequest()!.headers['x-goog-api-key']).toBe('sk-platform-gemini');

    t.anthropic.enqueue({ text: 'Bonjour', promptTokens: 1000, cachedTokens: 600, cacheWriteTokens: 300, cacheWrite1hTokens: 200, completionTokens: 2, thinking: 'Let me think', signature: 'sig-123' });
    const a = await anthropic()
      .messages.stream({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'Hi' }] })
      .finalMessage();
    expect(a.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 600, cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 } });
    const thinking = a.content.find((b) => b.type === 'thinking');
    expect(thinking).toMatchObject({ thinking: 'Let me think', signature: 'sig-123' });
    expect(a.content.find((b) => b.type === 'text')).toMatchObject({ text: 'Bonjour' });
  });

  it('says which stop sequence ended an Anthropic answer, streamed and not', async () => {
    const ask = { model: 'anthropic/claude-sonnet-4.5', max_tokens: 100, stop_sequences: ['###', 'END'], messages: [{ role: 'user' as const, content: 'Count' }] };
    t.anthropic.enqueue({ text: 'one two', stopSequence: 'END' });
    const m = await anthropic().messages.create(ask);
    expect(t.anthropic.lastRequest()!.body).toMatchObject({ stop_sequences: ['###', 'END'] });
    expect(m).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    t.anthropic.enqueue({ text: 'one two', stopSequence: '###' });
    const s = await anthropic().messages.stream(ask).finalMessage();
    expect(s).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: '###' });
    // A natural end stays end_turn; an OpenAI-family upstream does not say which sequence matched.
    t.anthropic.enqueue({ text: 'one two' });
    expect(await anthropic().messages.create(ask)).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
    t.openai.enqueue({ text: 'one two', stopSequence: 'END' });
    expect(await anthropic().messages.create({ ...ask, model: 'openai/gpt-4o-mini' })).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
  });

  it("passes the client's anthropic-beta flags to an Anthropic upstream, and refuses a malformed value naming it", async () => {
    const betas = 'interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14';
    const msg = await anthropic().messages.create({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] }, { headers: { 'anthropic-beta': betas } });
    expect(msg.type).toBe('message');
    expect(t.anthropic.lastRequest()!.headers['anthropic-beta']).toBe(betas);
    // On the platform's key the long-context flag (billed at a premium the catalog does not charge) is left out.
    await anthropic().messages.create({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] }, { headers: { 'anthropic-beta': `context-1m-2025-08-07, ${betas}` } });
    expect(t.anthropic.lastRequest()!.headers['anthropic-beta']).toBe(betas);
    await anthropic().messages.create({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] }, { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } });
    expect(t.anthropic.lastRequest()!.headers['anthropic-beta']).toBeUndefined();
    await anthropic().messages.create({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] });
    expect(t.anthropic.lastRequest()!.headers['anthropic-beta']).toBeUndefined();
    const sent = t.anthropic.requests.length;
    const bad = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json', 'anthropic-beta': 'ok-flag, x-injected: yes' },
      body: JSON.stringify({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('anthropic-beta') } });
    expect(t.anthropic.requests).toHaveLength(sent);
  });

  it('takes output_config.effort without thinking as effort alone: passed to Anthropic 4.6+, thinking off; nothing for another provider', async () => {
    const ask = { max_tokens: 200, temperature: 0.3, messages: [{ role: 'user' as const, content: 'Hello' }], output_config: { effort: 'low' } };
    await anthropic().messages.create({ model: 'anthropic/claude-sonnet-4.6', ...ask } as Anthropic.MessageCreateParamsNonStreaming);
    const sent = t.anthropic.lastRequest()!.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty('thinking');
    expect(sent.output_config).toEqual({ effort: 'low' });
    expect(sent.temperature).toBe(0.3);
    t.openai.enqueue({ text: 'ok' });
    await anthropic().messages.create({ model: 'openai/gpt-4o-mini', ...ask } as Anthropic.MessageCreateParamsNonStreaming);
    const toOpenAi = t.openai.lastRequest()!.body as Record<string, unknown>;
    expect(toOpenAi).not.toHaveProperty('reasoning_effort');
    expect(toOpenAi).not.toHaveProperty('output_config');
  });

  it('answers errors in Anthropic shape, with the key in x-api-key', async () => {
    const bad = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'sk-gw-wrong', 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: '{}' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const invalid = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [] }) });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});

describe('every family through the OpenAI SDK', () => {
  it('Gemini: non-stream and stream with a tool call and usage including thoughts', async () => {
    t.gemini.enqueue({ text: 'Hello from Gemini', promptTokens: 40, cachedTokens: 10, completionTokens: 12, reasoningTokens: 7 });
    const r = await openai().chat.completions.create({ model: 'google/gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0].message.content).toBe('Hello from Gemini');
    expect(r.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 12, prompt_tokens_details: { cached_tokens: 10 }, completion_tokens_details: { reasoning_tokens: 7 } });
    const u = r.usage!;
    const expected = costMicros({ promptTokens: u.prompt_tokens, cachedTokens: 10, cacheWriteTokens: 0, completionTokens: u.completion_tokens, reasoningTokens: 7 }, await price('google/gemini-2.5-flash'), 0n);
    expect((u as unknown as { cost: number }).cost).toBe(Number(expected) / 1e6);

    t.gemini.enqueue({ toolCalls: [{ name: 'lookup', arguments: '{"q":"x"}' }] });
    const stream = openai().chat.completions.stream({
      model: 'google/gemini-2.5-flash',
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      messages: [{ role: 'user', content: 'find x' }],
    });
    const done = await stream.finalChatCompletion();
    expect(done.choices[0].finish_reason).toBe('tool_calls');
    expect(done.choices[0].message.tool_calls?.[0]).toMatchObject({ function: { name: 'lookup', arguments: '{"q":"x"}' } });
  });

  it('embeddings through the OpenAI SDK, charged by input tokens', async () => {
    const before = (await t.credits.getCredits(tenantId))!.balance;
    const r = await openai().embeddings.create({ model: 'openai/text-embedding-3-small', input: ['alpha', 'beta'] });
    expect(r.data).toHaveLength(2);
    expect(r.data[0].embedding.length).toBeGreaterThan(0);
    expect(r.usage.prompt_tokens).toBeGreaterThan(0);
    const expected = costMicros({ promptTokens: r.usage.prompt_tokens, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 0, reasoningTokens: 0 }, await price('openai/text-embedding-3-small'), 0n);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(before - expected);
    const refused = await openai().embeddings.create({ model: 'anthropic/claude-haiku-4.5', input: 'x' }).catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
  });
});
