import Anthropic from '@anthropic-ai/sdk';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DomainError, ErrorCode } from '@gw/core';
import {
  anthropicEventsToSse,
  anthropicToChatRequest,
  chatCompletionToAnthropic,
  ChatChunksToAnthropicEvents,
  ProviderRegistry,
  toAnthropicError,
  type ChatRequest,
  type ProviderAdapter,
  type WireFormat,
} from '@gw/llm';
import { FakeAnthropicServer } from './fake-anthropic.server';
import { FakeGeminiServer } from './fake-gemini.server';
import type { FakeHttpServer } from './fake-http.server';
import { FakeOpenAiServer } from './fake-openai.server';

/**
 * The Anthropic Messages inbound path end to end, in process: @anthropic-ai/sdk (what Claude Code
 * uses) -> a minimal `/v1/messages` relay built only from the exported pure pieces
 * (anthropicToChatRequest, an adapter, ChatChunksToAnthropicEvents / chatCompletionToAnthropic,
 * toAnthropicError) -> each provider's fake over real HTTP. The SDK's own stream accumulation is
 * the judge of the events.
 */
const registry = new ProviderRegistry();
const fakes: Record<WireFormat, { server: FakeHttpServer; base: () => string; key: string }> = {
  openai: { server: new FakeOpenAiServer({ apiKey: 'sk-openai' }), base: () => `${fakes.openai.server.baseUrl}/v1`, key: 'sk-openai' },
  anthropic: { server: new FakeAnthropicServer({ apiKey: 'sk-ant' }), base: () => fakes.anthropic.server.baseUrl, key: 'sk-ant' },
  gemini: { server: new FakeGeminiServer({ apiKey: 'AIza-g' }), base: () => `${fakes.gemini.server.baseUrl}/v1beta`, key: 'AIza-g' },
};
const openAiFake = fakes.openai.server as FakeOpenAiServer;
const anthropicFake = fakes.anthropic.server as FakeAnthropicServer;
const geminiFake = fakes.gemini.server as FakeGeminiServer;

let relay: Server;
let client: Anthropic;
/** Raw SSE text of the last streamed answer, to check the framing the SDK parsed. */
let lastSse = '';
let seq = 0;

function route(model: string): { adapter: ProviderAdapter; upstreamModel: string } {
  const slash = model.indexOf('/');
  const adapter = registry.get(model.slice(0, slash));
  if (adapter === undefined) throw new DomainError(ErrorCode.ModelNotFound, `Model ${model} not found`, { param: 'model' });
  return { adapter, upstreamModel: model.slice(slash + 1) };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return JSON.parse(Buffer.concat(parts).toString('utf8'));
}

function sendError(res: ServerResponse, err: unknown, requestId: string): void {
  const d = toAnthropicError(err, requestId);
  res.writeHead(d.status, { 'content-type': 'application/json', ...d.headers });
  res.end(JSON.stringify(d.body));
}

/** The /v1/messages relay: what the gateway's controller does, minus auth, routing and metering. */
async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = `gen-in-${++seq}`;
  let chat: ChatRequest;
  let adapter: ProviderAdapter;
  let upstream: Response;
  try {
    chat = anthropicToChatRequest(await readBody(req));
    const r = route(chat.model);
    adapter = r.adapter;
    const fake = fakes[adapter.wireFormat];
    const up = adapter.buildChatRequest(chat, { baseUrl: fake.base(), apiKey: fake.key, upstreamModel: r.upstreamModel }, { stream: chat.stream === true, unsupportedParams: 'drop', maxTokens: chat.max_completion_tokens ?? undefined });
    upstream = await fetch(up.url, { method: 'POST', headers: up.headers, body: up.body });
    if (upstream.status >= 400) throw adapter.mapError(upstream.status, await upstream.text(), Object.fromEntries(upstream.headers.entries()));
  } catch (e) {
    return sendError(res, e, requestId);
  }
  const ctx = { id: requestId, model: chat.model, created: Math.floor(Date.now() / 1000) };
  if (chat.stream !== true) {
    try {
      const parsed = adapter.parseChatResponse(await upstream.json(), ctx);
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId });
      res.end(JSON.stringify(chatCompletionToAnthropic(parsed.completion, parsed.usage)));
    } catch (e) {
      sendError(res, e, requestId);
    }
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': requestId });
  lastSse = '';
  const write = (text: string) => {
    lastSse += text;
    if (text !== '') res.write(text);
  };
  const t = adapter.createStreamTransformer(ctx);
  const conv = new ChatChunksToAnthropicEvents({ id: requestId, model: chat.model });
  try {
    if (upstream.body === null) throw new DomainError(ErrorCode.StreamIncomplete, 'no body');
    const reader = upstream.body.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (done) break;
      write(anthropicEventsToSse(conv.push(t.push(value), t.usage())));
    }
    write(anthropicEventsToSse(conv.push(t.end(), t.usage())));
    write(anthropicEventsToSse(conv.end(t.usage())));
  } catch (e) {
    write(anthropicEventsToSse(conv.fail(e)));
  }
  res.end();
}

beforeAll(async () => {
  await Promise.all(Object.values(fakes).map((f) => f.server.start()));
  relay = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const { port } = relay.address() as AddressInfo;
  client = new Anthropic({ apiKey: 'gw-tenant-key', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0, logLevel: 'off' });
});
afterAll(async () => {
  relay.closeAllConnections();
  await new Promise<void>((resolve) => relay.close(() => resolve()));
  await Promise.all(Object.values(fakes).map((f) => f.server.close()));
});
beforeEach(() => {
  for (const f of Object.values(fakes)) f.server.reset();
});

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
};
const ask = (model: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming => ({
  model,
  max_tokens: 1024,
  system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: 'Weather in Lyon?' }],
  ...extra,
});

describe('/v1/messages through any provider, judged by @anthropic-ai/sdk', () => {
  it.each([
    ['openai/gpt-4o', openAiFake],
    ['anthropic/claude-sonnet-4-5', anthropicFake],
    ['google/gemini-2.5-flash', geminiFake],
  ] as const)('streams text from %s', async (model, fake) => {
    fake.enqueue({ text: 'It is sunny in Lyon.', deltas: 3 });
    const texts: string[] = [];
    const stream = client.messages.stream(ask(model)).on('text', (t) => texts.push(t));
    const msg = await stream.finalMessage();
    expect(msg.content).toEqual([{ type: 'text', text: 'It is sunny in Lyon.' }]);
    expect(texts.length).toBeGreaterThan(1);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.model).toBe(model);
    // Every event carries its `event:` line; the stream ends with message_stop.
    expect(lastSse.split('\n\n').filter((b) => b.startsWith('data:'))).toEqual([]);
    expect(lastSse.trimEnd().endsWith('event: message_stop\ndata: {"type":"message_stop"}')).toBe(true);
  });

  it('keeps Anthropic usage with cache reads and writes exact through the OpenAI canonical middle', async () => {
    anthropicFake.enqueue({ text: 'ok', promptTokens: 2000, cachedTokens: 1800, cacheWriteTokens: 150, completionTokens: 42, reasoningTokens: 0 });
    const streamed = await client.messages.stream(ask('anthropic/claude-sonnet-4-5')).finalMessage();
    expect(streamed.usage).toMatchObject({ input_tokens: 50, cache_read_input_tokens: 1800, cache_creation_input_tokens: 150, output_tokens: 42 });
    anthropicFake.enqueue({ text: 'ok', promptTokens: 2000, cachedTokens: 1800, cacheWriteTokens: 150, completionTokens: 42, reasoningTokens: 0 });
    const plain = await client.messages.create(ask('anthropic/claude-sonnet-4-5'));
    expect(plain.usage).toEqual({ input_tokens: 50, cache_read_input_tokens: 1800, cache_creation_input_tokens: 150, output_tokens: 42 });
    // The system cache_control reached Anthropic as a hint on the system block.
    expect(anthropicFake.lastRequest()?.body).toMatchObject({ system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }] });
  });

  it('maps Gemini usage onto Anthropic bases (cached out of input, thoughts in output)', async () => {
    geminiFake.enqueue({ text: 'ok', thinking: 'hm', promptTokens: 120, cachedTokens: 64, completionTokens: 95, reasoningTokens: 80, toolUsePromptTokens: 6 });
    const msg = await client.messages.stream(ask('google/gemini-2.5-flash')).finalMessage();
    expect(msg.usage).toMatchObject({ input_tokens: 62, cache_read_input_tokens: 64, cache_creation_input_tokens: 0, output_tokens: 95, output_tokens_details: { thinking_tokens: 80 } });
    // Gemini thought summaries are not Anthropic thinking: no thinking block without a real
    // signature. The text part's thoughtSignature rides along in a redacted_thinking envelope.
    expect(msg.content.map((b) => b.type)).toEqual(['text', 'redacted_thinking']);
    expect(msg.content[0]).toEqual({ type: 'text', text: 'ok' });
  });

  it.each([
    ['openai/gpt-4o', openAiFake],
    ['google/gemini-2.5-flash', geminiFake],
    ['anthropic/claude-sonnet-4-5', anthropicFake],
  ] as const)('streams tool use with input_json_delta from %s', async (model, fake) => {
    fake.enqueue({ text: 'Checking.', toolCalls: [{ id: 'toolu_w1', name: 'get_weather', arguments: { city: 'Lyon' } }, { id: 'toolu_w2', name: 'get_weather', arguments: { city: 'Paris' } }] });
    const partial: string[] = [];
    const msg = await client.messages
      .stream(ask(model, { tools: [weatherTool], tool_choice: { type: 'auto' } }))
      .on('inputJson', (delta) => partial.push(delta))
      .finalMessage();
    expect(msg.stop_reason).toBe('tool_use');
    const uses = msg.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(uses.map((u) => [u.id, u.name, u.input])).toEqual([
      ['toolu_w1', 'get_weather', { city: 'Lyon' }],
      ['toolu_w2', 'get_weather', { city: 'Paris' }],
    ]);
    expect(partial.join('')).toBe('{"city":"Lyon"}{"city":"Paris"}');
    expect(msg.content[0]).toEqual({ type: 'text', text: 'Checking.' });
  });

  it('streams signed thinking from Anthropic and replays it unchanged in the next turn', async () => {
    anthropicFake.enqueue({ thinking: 'Need the weather tool.', signature: 'sig-abc', toolCalls: [{ id: 'toolu_9', name: 'get_weather', arguments: { city: 'Lyon' } }] });
    const thinking: string[] = [];
    const signatures: string[] = [];
    const params = ask('anthropic/claude-sonnet-4-5', { tools: [weatherTool], thinking: { type: 'enabled', budget_tokens: 2048 } });
    const first = await client.messages
      .stream(params)
      .on('thinking', (d) => thinking.push(d))
      .on('signature', (s) => signatures.push(s))
      .finalMessage();
    expect(first.content[0]).toEqual({ type: 'thinking', thinking: 'Need the weather tool.', signature: 'sig-abc' });
    expect(thinking.join('')).toBe('Need the weather tool.');
    expect(signatures).toEqual(['sig-abc']);
    // budget 2048 -> reasoning_effort low -> the Anthropic adapter's budget for low.
    expect(anthropicFake.lastRequest()?.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1024 } });

    anthropicFake.enqueue({ text: 'Sunny.' });
    const second = await client.messages
      .stream({
        ...params,
        messages: [...params.messages, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: '{"sky":"clear"}' }] }],
      })
      .finalMessage();
    expect(second.content).toEqual([{ type: 'text', text: 'Sunny.' }]);
    const sent = anthropicFake.lastRequest()?.body as { messages: Array<{ role: string; content: unknown[] }> };
    expect(sent.messages[1].content).toEqual([
      { type: 'thinking', thinking: 'Need the weather tool.', signature: 'sig-abc' },
      { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Lyon' } },
    ]);
    expect(sent.messages[2].content).toEqual([{ type: 'tool_result', tool_use_id: 'toolu_9', content: '{"sky":"clear"}' }]);
  });

  it('carries a Gemini 3 thought signature through an Anthropic client so the tool loop is accepted', async () => {
    const model = 'google/gemini-3-pro-preview';
    geminiFake.enqueue({ thinking: 'Think.', signature: 'SIG-G3', toolCalls: [{ id: 'fc_1', name: 'get_weather', arguments: { city: 'Lyon' } }] });
    const params = ask(model, { tools: [weatherTool], thinking: { type: 'enabled', budget_tokens: 20000 } });
    const first = await client.messages.stream(params).finalMessage();
    expect(first.content.map((b) => b.type)).toEqual(['redacted_thinking', 'tool_use']);
    expect(geminiFake.lastRequest()?.body).toMatchObject({ generationConfig: { thinkingConfig: { thinkingLevel: 'HIGH' } } });

    geminiFake.enqueue({ text: 'Sunny in Lyon.' });
    const second = await client.messages.create({
      ...params,
      messages: [...params.messages, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'fc_1', content: 'clear' }] }],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'Sunny in Lyon.' }]);
    const sent = geminiFake.lastRequest()?.body as { contents: Array<{ parts: object[] }> };
    expect(sent.contents[1].parts).toEqual([{ functionCall: { name: 'get_weather', args: { city: 'Lyon' }, id: 'fc_1' }, thoughtSignature: 'SIG-G3' }]);
  });

  it('answers non-streaming requests from every format', async () => {
    openAiFake.enqueue({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Nice' } }] });
    const msg = await client.messages.create(ask('openai/gpt-4o', { tools: [weatherTool] }));
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'tool_use', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Nice' } }] });
    geminiFake.enqueue({ text: 'Bonjour.', completionTokens: 2 });
    expect((await client.messages.create(ask('google/gemini-2.5-flash'))).content).toEqual([{ type: 'text', text: 'Bonjour.' }]);
  });

  it('reports validation errors in Anthropic shape (400 invalid_request_error)', async () => {
    const bad = { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const err = await client.messages.create(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err).toMatchObject({ status: 400, type: 'invalid_request_error', apiMessage: expect.stringContaining('max_tokens') });
    expect(openAiFake.requests).toHaveLength(0);
  });

  it('maps upstream failures to Anthropic statuses (429 rate_limit_error, 529 overloaded_error)', async () => {
    geminiFake.enqueue({ status: 429, retryAfter: 3 });
    const limited = await client.messages.create(ask('google/gemini-2.5-flash')).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(limited).toMatchObject({ type: 'rate_limit_error' });
    expect((limited as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('3');
    anthropicFake.enqueue({ status: 529 });
    const overloaded = await client.messages.create(ask('anthropic/claude-sonnet-4-5')).catch((e: unknown) => e);
    expect(overloaded).toMatchObject({ status: 529, type: 'overloaded_error' });
  });

  it('turns a mid-stream failure into event: error, which the SDK raises (never a complete-looking message)', async () => {
    openAiFake.enqueue({ text: 'one two three four five six', deltas: 6, errorAfterEvents: 3, errorType: 'server_error', errorCode: 503 });
    const texts: string[] = [];
    const err = await client.messages
      .stream(ask('openai/gpt-4o'))
      .on('text', (t) => texts.push(t))
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err).toMatchObject({ type: 'overloaded_error' });
    expect(texts.join('')).toBe('one two ');
    expect(lastSse).toContain('event: error\n');
    expect(lastSse).not.toContain('message_stop');

    geminiFake.enqueue({ text: 'cut short here', deltas: 3, cutAfterEvents: 1, cutMode: 'end' });
    const cut = await client.messages.stream(ask('google/gemini-2.5-flash')).finalMessage().catch((e: unknown) => e);
    expect(cut).toMatchObject({ type: 'api_error' });
  });
});
