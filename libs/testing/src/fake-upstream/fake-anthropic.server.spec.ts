import Anthropic from '@anthropic-ai/sdk';
import { FakeAnthropicServer } from './fake-anthropic.server';

/** Drives the fake with the official `@anthropic-ai/sdk`: proof that it speaks the real wire format. */
describe('FakeAnthropicServer with @anthropic-ai/sdk', () => {
  const fake = new FakeAnthropicServer({ apiKey: 'sk-ant-platform' });
  let client: Anthropic;
  const user = (text: string): Anthropic.MessageParam => ({ role: 'user', content: text });

  beforeAll(async () => {
    const url = await fake.start();
    client = new Anthropic({ apiKey: 'sk-ant-platform', baseURL: url, maxRetries: 0, logLevel: 'off' });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset().setDefaults({}));

  it('answers a message with usage split into uncached input, cache reads and cache writes', async () => {
    fake.enqueue({ text: 'Bonjour le monde', promptTokens: 2000, cachedTokens: 1800, cacheWriteTokens: 100, completionTokens: 95 });
    const msg = await client.messages.create({ model: 'claude-fake-1', max_tokens: 1024, messages: [user('hi')] });
    expect(msg.type).toBe('message');
    expect(msg.content).toEqual([{ type: 'text', text: 'Bonjour le monde', citations: null }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 1800, cache_creation_input_tokens: 100, output_tokens: 95 });

    const rec = fake.lastRequest();
    expect(rec?.path).toBe('/v1/messages');
    // SDK >= 1.0 authenticates with a bearer token and sends its own API version.
    expect(rec?.headers.authorization).toBe('Bearer sk-ant-platform');
    expect(rec?.headers['anthropic-version']).toBeDefined();
  });

  it('streams thinking, text and tool use that MessageStream assembles into the final message', async () => {
    fake.enqueue({
      thinking: 'The user wants the weather.',
      signature: 'EqQBsig',
      text: 'Let me check.',
      toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: { city: 'Lyon' } }],
      pings: true,
      promptTokens: 50,
      completionTokens: 40,
      reasoningTokens: 10,
    });
    const stream = client.messages.stream({
      model: 'claude-fake-1',
      max_tokens: 8000,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [user('weather?')],
    });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'The user wants the weather.', signature: 'EqQBsig' },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Lyon' } },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage.output_tokens).toBe(40);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    // The SDK drops `ping` events; they are on the wire (checked raw below).
    expect(types).not.toContain('ping');
  });

  it('frames every event with an event: line, pings included', async () => {
    fake.enqueue({ pings: true });
    const res = await fetch(`${fake.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-ant-platform', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text).toContain('event: ping\ndata: {"type":"ping"}\n\n');
    const blocks = text.split('\n\n').filter((b) => b !== '');
    expect(blocks.every((b) => b.startsWith('event: '))).toBe(true);
    expect(blocks.at(-1)).toBe('event: message_stop\ndata: {"type":"message_stop"}');
  });

  it('gives tool input whole in content_block_start when asked', async () => {
    fake.enqueue({ toolCalls: [{ id: 'toolu_2', name: 'f', arguments: { a: 1 } }], toolInputInStart: true });
    const final = await client.messages.stream({ model: 'm', max_tokens: 100, messages: [user('x')] }).finalMessage();
    expect(final.content).toEqual([{ type: 'tool_use', id: 'toolu_2', name: 'f', input: { a: 1 } }]);
  });

  it('maps max_tokens truncation to stop_reason max_tokens', async () => {
    fake.enqueue({ text: 'a b c d e f g h', completionTokens: 8 });
    const msg = await client.messages.create({ model: 'm', max_tokens: 2, messages: [user('x')] });
    expect(msg.stop_reason).toBe('max_tokens');
    expect(msg.usage.output_tokens).toBe(2);
  });

  it.each([
    [529, 'overloaded_error'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [401, 'authentication_error'],
  ])('answers %i with the %s error body', async (status, type) => {
    fake.enqueue({ status, retryAfter: 3 });
    const err = await client.messages.create({ model: 'm', max_tokens: 10, messages: [user('x')] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const e = err as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(status);
    expect((e.error as { error?: { type?: string } }).error?.type).toBe(type);
    expect(e.headers?.get('retry-after')).toBe('3');
    expect(e.headers?.get('request-id')).toMatch(/^req_fake/);
  });

  it('sends event: error mid-stream, which the SDK raises', async () => {
    fake.enqueue({ errorAfterEvents: 3 });
    const err = await client.messages
      .stream({ model: 'm', max_tokens: 100, messages: [user('x')] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String(err)).toMatch(/Overloaded|overloaded/);
  });

  it('cuts a stream after N events', async () => {
    fake.enqueue({ cutAfterEvents: 3, cutMode: 'mid-event' });
    const err = await client.messages
      .stream({ model: 'm', max_tokens: 100, messages: [user('x')] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeDefined();
  });

  it('answers 400 like the real API to requests it would refuse', async () => {
    const bad = async (body: Record<string, unknown>): Promise<string> => {
      const res = await fetch(`${fake.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': 'sk-ant-platform', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', ...body }),
      });
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: { message: string } }).error.message;
    };
    expect(await bad({ messages: [{ role: 'user', content: 'x' }] })).toMatch(/max_tokens/);
    expect(await bad({ max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] })).toMatch(/non-empty/);
    expect(
      await bad({
        max_tokens: 5,
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
          { role: 'user', content: 'no result' },
        ],
      }),
    ).toMatch(/tool_result/);
    expect(await bad({ max_tokens: 5, temperature: 1.5, messages: [{ role: 'user', content: 'x' }] })).toMatch(/temperature/);
    expect(await bad({ max_tokens: 1000, thinking: { type: 'enabled', budget_tokens: 1000 }, messages: [{ role: 'user', content: 'x' }] })).toMatch(/budget/);
    const loop = (assistant: unknown[]) => [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: assistant },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] },
    ];
    const toolUse = { type: 'tool_use', id: 't1', name: 'f', input: {} };
    expect(await bad({ max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: loop([toolUse]) })).toMatch(/must start with a thinking block/);
    expect(await bad({ max_tokens: 4000, thinking: { type: 'adaptive' }, messages: loop([{ type: 'text', text: 'let me see' }, toolUse]) })).toMatch(/Expected `thinking`/);
  });

  it('accepts x-api-key and rejects a wrong key', async () => {
    const headerClient = new Anthropic({ apiKey: null, authToken: null, baseURL: fake.baseUrl, maxRetries: 0, defaultHeaders: { 'x-api-key': 'sk-ant-platform' }, logLevel: 'off' });
    await expect(headerClient.messages.create({ model: 'm', max_tokens: 5, messages: [user('x')] })).resolves.toMatchObject({ type: 'message' });
    expect(fake.lastRequest()?.headers['x-api-key']).toBe('sk-ant-platform');
    const wrong = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.baseUrl, maxRetries: 0, logLevel: 'off' });
    await expect(wrong.messages.create({ model: 'm', max_tokens: 5, messages: [user('x')] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });
});
