import OpenAI from 'openai';
import { FakeOpenAiServer } from './fake-openai.server';

/** Drives the fake with the official `openai` SDK: proof that it speaks the real wire format. */
describe('FakeOpenAiServer with the openai SDK', () => {
  const fake = new FakeOpenAiServer({ apiKey: 'sk-platform-key' });
  let client: OpenAI;

  beforeAll(async () => {
    const url = await fake.start();
    client = new OpenAI({ apiKey: 'sk-platform-key', baseURL: `${url}/v1`, maxRetries: 0, logLevel: 'off' });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset().setDefaults({}));

  it('answers a non-streaming completion with usage, and records the request with its key', async () => {
    fake.enqueue({ text: 'The quick brown fox', promptTokens: 2006, cachedTokens: 1920, completionTokens: 300, reasoningTokens: 192 });
    const res = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 1000 });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('gpt-4o');
    expect(res.choices[0].message.content).toBe('The quick brown fox');
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306 });
    expect(res.usage?.prompt_tokens_details?.cached_tokens).toBe(1920);
    expect(res.usage?.completion_tokens_details?.reasoning_tokens).toBe(192);

    const rec = fake.lastRequest();
    expect(rec?.path).toBe('/v1/chat/completions');
    expect(rec?.headers.authorization).toBe('Bearer sk-platform-key');
    expect(rec?.body).toMatchObject({ model: 'gpt-4o', max_completion_tokens: 1000 });
  });

  it('streams deltas, a finish chunk and the usage-only chunk when include_usage is set', async () => {
    fake.enqueue({ text: 'one two three four five six', deltas: 3, promptTokens: 9, completionTokens: 6, obfuscation: true, comments: true });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('one two three four five six');
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBe(3);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('sends no usage on a stream without include_usage', async () => {
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.usage === undefined || c.usage === null)).toBe(true);
  });

  it('streams tool calls that satisfy the strict SDK stream helper', async () => {
    fake.enqueue({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { id: 'call_b', name: 'get_time', arguments: {} }] });
    const runner = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
        { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
      ],
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(final.choices[0].message.tool_calls?.map((t) => (t.type === 'function' ? [t.id, t.function.name, t.function.arguments] : []))).toEqual([
      [expect.stringMatching(/^call_fake_\d+_0$/), 'get_weather', '{"city":"Paris"}'],
      ['call_b', 'get_time', '{}'],
    ]);
  });

  it('caps the reply at max_tokens with finish_reason length, unless told to ignore it', async () => {
    fake.enqueue({ text: 'a b c d e f g h i j', completionTokens: 10 }, { text: 'a b c d e f g h i j', completionTokens: 10, ignoreMaxTokens: true });
    const capped = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
    expect(capped.choices[0].finish_reason).toBe('length');
    expect(capped.usage?.completion_tokens).toBe(4);
    expect(capped.choices[0].message.content).toBe('a b c d ');
    const ignored = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
    expect(ignored.usage?.completion_tokens).toBe(10);
  });

  it('echoes the last user message when asked', async () => {
    fake.enqueue({ echo: true });
    const res = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'repeat me' }] }] });
    expect(res.choices[0].message.content).toBe('repeat me');
  });

  it('returns n choices', async () => {
    const res = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 3 });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
  });

  it('answers 429 with Retry-After in the OpenAI error shape', async () => {
    fake.enqueue({ status: 429, retryAfter: 7 });
    const err = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.headers?.get('retry-after')).toBe('7');
    expect(e.code).toBe('rate_limit_exceeded');
  });

  it.each([
    [500, OpenAI.InternalServerError],
    [503, OpenAI.InternalServerError],
    [400, OpenAI.BadRequestError],
    [404, OpenAI.NotFoundError],
  ])('answers %i as the SDK expects', async (status, cls) => {
    fake.enqueue({ status });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(cls);
  });

  it('rejects a wrong key with 401', async () => {
    const other = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${fake.baseUrl}/v1`, maxRetries: 0 });
    await expect(other.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect(fake.lastRequest()?.headers.authorization).toBe('Bearer sk-wrong');
  });

  it('sends an in-stream error the SDK raises as APIError', async () => {
    fake.enqueue({ errorAfterEvents: 2, errorMessage: 'upstream broke', errorCode: 502 });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as Error).message).toContain('upstream broke');
    expect(seen).toHaveLength(2);
  });

  it('cuts a stream mid-way (socket destroyed after N events)', async () => {
    fake.enqueue({ cutAfterEvents: 2, deltas: 4 });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    let n = 0;
    const err = await (async () => {
      for await (const _ of stream) n++;
    })().catch((e: unknown) => e);
    // undici reports the cut as a TypeError("terminated") from Node's own realm.
    expect(String(err)).toMatch(/terminated|closed|socket/i);
    expect(n).toBe(2);
  });

  it('can end a stream cleanly without [DONE]', async () => {
    fake.enqueue({ cutAfterEvents: 3, cutMode: 'end' });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    let n = 0;
    for await (const _ of stream) n++;
    expect(n).toBe(3);
  });

  it('injects a malformed event the SDK cannot parse', async () => {
    fake.enqueue({ malformedAfterEvents: 1 });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    const err = await (async () => {
      for await (const _ of stream) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(String(err)).toMatch(/malformed|JSON/i);
  });

  it('delays headers and paces events', async () => {
    fake.enqueue({ headerDelayMs: 120, chunkDelayMs: 20, deltas: 3 });
    const t0 = Date.now();
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    const tHeaders = Date.now() - t0;
    for await (const _ of stream) {
      // drain
    }
    expect(tHeaders).toBeGreaterThanOrEqual(100);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100 + 5 * 20 - 10);
  });

  it('times out a client that will not wait for slow headers', async () => {
    fake.enqueue({ headerDelayMs: 2000 });
    const impatient = new OpenAI({ apiKey: 'sk-platform-key', baseURL: `${fake.baseUrl}/v1`, maxRetries: 0, timeout: 100 });
    await expect(impatient.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('records that the client aborted a stream', async () => {
    fake.enqueue({ chunkDelayMs: 50, deltas: 10 });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    for await (const _ of stream) break;
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.lastRequest()?.clientAborted).toBe(true);
  });

  it('takes a behaviour from the x-fake-behaviour header, ahead of the queue', async () => {
    fake.enqueue({ text: 'from queue' });
    const res = await client.chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-fake-behaviour': JSON.stringify({ text: 'from header' }) } },
    );
    expect(res.choices[0].message.content).toBe('from header');
    expect(fake.pending).toBe(1);
  });

  it('serves a queued behaviour `times` times, then the defaults', async () => {
    fake.setDefaults({ text: 'default' }).enqueue({ text: 'twice', times: 2 });
    const texts: Array<string | null> = [];
    for (let i = 0; i < 3; i++) texts.push((await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).choices[0].message.content);
    expect(texts).toEqual(['twice', 'twice', 'default']);
  });

  it('serves embeddings in float and base64 encodings, deterministically', async () => {
    const a = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['hello', 'world'], dimensions: 16 });
    const b = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['hello', 'world'], dimensions: 16, encoding_format: 'float' });
    expect(a.data).toHaveLength(2);
    expect(Array.from(a.data[0].embedding)).toHaveLength(16);
    expect(Array.from(a.data[0].embedding).map((x) => x.toFixed(5))).toEqual(b.data[0].embedding.map((x) => x.toFixed(5)));
    expect(a.usage.prompt_tokens).toBeGreaterThan(0);
  });
});
