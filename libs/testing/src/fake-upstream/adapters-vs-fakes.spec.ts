import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { ErrorCode, type TokenUsage } from '@gw/core';
import { contentOf, ProviderRegistry, toolCallsOf, type BuildOptions, type ChatCompletionChunk, type ChatRequest, type ProviderAdapter, type ResponseContext } from '@gw/llm';
import type { FakeBehaviour } from './fake-behaviour';
import { FakeAnthropicServer } from './fake-anthropic.server';
import type { FakeHttpServer } from './fake-http.server';
import { FakeOpenAiServer } from './fake-openai.server';

/**
 * Every adapter end to end against the fakes, over real HTTP: request mapping accepted by the
 * fake's validation, stream transformation, usage, error mapping. The gateway's own upstream
 * client is not involved; plain fetch plays its part.
 */
const registry = new ProviderRegistry();
const openAiFake = new FakeOpenAiServer();
const anthropicFake = new FakeAnthropicServer({ apiKey: 'sk-ant-platform' });
const ctx: ResponseContext = { id: 'gen-e2e', model: 'pub/model', created: 1_800_000_000 };
const streamOpts: BuildOptions = { stream: true, unsupportedParams: 'reject', maxTokens: 500 };
const plainOpts: BuildOptions = { ...streamOpts, stream: false };

beforeAll(async () => {
  await Promise.all([openAiFake.start(), anthropicFake.start()]);
});
afterAll(() => Promise.all([openAiFake.close(), anthropicFake.close()]));
beforeEach(() => {
  openAiFake.reset();
  anthropicFake.reset();
});

interface Outcome {
  status: number;
  chunks: ChatCompletionChunk[];
  usage?: TokenUsage;
  error?: { code: string; retryable?: boolean; retryAfterSeconds?: number };
  body?: unknown;
}

async function call(adapter: ProviderAdapter, fake: FakeHttpServer, req: ChatRequest, opts: BuildOptions, apiKey: string, baseSuffix = ''): Promise<Outcome> {
  const up = adapter.buildChatRequest(req, { baseUrl: fake.baseUrl + baseSuffix, apiKey, upstreamModel: 'upstream-1' }, opts);
  const res = await fetch(up.url, { method: 'POST', headers: up.headers, body: up.body });
  const headers = Object.fromEntries(res.headers.entries());
  if (res.status >= 400) {
    const e = adapter.mapError(res.status, await res.text(), headers);
    return { status: res.status, chunks: [], error: { code: e.code, retryable: e.details.retryable, retryAfterSeconds: e.details.retryAfterSeconds } };
  }
  if (!opts.stream) {
    const parsed = adapter.parseChatResponse(await res.json(), ctx);
    return { status: res.status, chunks: [], usage: parsed.usage, body: parsed.completion };
  }
  const t = adapter.createStreamTransformer(ctx);
  const chunks: ChatCompletionChunk[] = [];
  try {
    if (res.body === null) throw new Error('no body');
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (done) break;
      chunks.push(...t.push(value));
    }
    chunks.push(...t.end());
  } catch (e) {
    const d = e as { code: string; details: { retryable?: boolean } };
    return { status: res.status, chunks, usage: t.usage(), error: { code: d.code, retryable: d.details.retryable } };
  }
  return { status: res.status, chunks, usage: t.usage() };
}

/** Feeds chunks to the openai SDK's strict stream accumulator: what a client of the gateway would run. */
function finalFromChunks(chunks: ChatCompletionChunk[]): ReturnType<ChatCompletionStream['finalChatCompletion']> {
  const text = chunks.map((c) => JSON.stringify(c)).join('\n') + '\n';
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return ChatCompletionStream.fromReadableStream(body).finalChatCompletion();
}

const hi: ChatRequest = { model: 'pub/model', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there' }], models: ['a/b'], provider: { order: ['x'] } };
const USAGE_BEHAVIOUR: FakeBehaviour = { text: 'alpha beta gamma delta', promptTokens: 120, cachedTokens: 64, cacheWriteTokens: 16, completionTokens: 30, reasoningTokens: 5 };
const EXPECTED_USAGE: TokenUsage = { promptTokens: 120, cachedTokens: 64, cacheWriteTokens: 16, completionTokens: 30, reasoningTokens: 5 };

describe.each(registry.all().filter((a) => a.wireFormat === 'openai').map((a) => [a.id, a] as const))('%s adapter against FakeOpenAiServer', (_id, adapter) => {
  // Vendors that never send usage on request put it on the last chunk themselves.
  const asked = JSON.parse(adapter.buildChatRequest(hi, { baseUrl: 'http://x', apiKey: 'k', upstreamModel: 'm' }, streamOpts).body).stream_options !== undefined;
  const vendor: FakeBehaviour = asked ? {} : { usage: 'last-choice-chunk' };
  // The vendor's own base path (`/v1`, `/openai/v1`, `/compatible-mode/v1`, ...) on the fake host;
  // vendors without a global endpoint (Azure) have no default base.
  const basePath = adapter.defaultBaseUrl === '' ? '' : new URL(adapter.defaultBaseUrl).pathname.replace(/\/$/, '');
  // What the adapter itself builds: the path (Azure: deployment and api-version) and the auth header.
  const built = adapter.buildChatRequest(hi, { baseUrl: `http://x${basePath}`, apiKey: `sk-${adapter.id}`, upstreamModel: 'upstream-1' }, streamOpts);
  const builtUrl = new URL(built.url);
  const authHeader = Object.entries(built.headers).find(([, v]) => v.includes(`sk-${adapter.id}`));

  it('streams text and reports the exact upstream usage; the key and model reached the upstream', async () => {
    openAiFake.enqueue({ ...USAGE_BEHAVIOUR, ...vendor, comments: true, obfuscation: true });
    const out = await call(adapter, openAiFake, hi, streamOpts, `sk-${adapter.id}`, basePath);
    expect(out.error).toBeUndefined();
    expect(contentOf(out.chunks)).toBe('alpha beta gamma delta');
    expect(out.chunks.at(-1)?.choices[0].finish_reason).toBe('stop');
    expect(out.chunks.every((c) => c.id === 'gen-e2e' && c.model === 'pub/model')).toBe(true);
    expect(out.usage).toEqual(adapter.id === 'xai' ? { ...EXPECTED_USAGE, completionTokens: 35 } : EXPECTED_USAGE);
    const rec = openAiFake.lastRequest();
    expect(builtUrl.pathname.endsWith('/chat/completions')).toBe(true);
    expect(rec?.path).toBe(builtUrl.pathname + builtUrl.search);
    expect(authHeader).toBeDefined();
    expect(rec?.headers[authHeader?.[0] ?? '']).toBe(authHeader?.[1]);
    expect(rec?.body).toMatchObject({ model: 'upstream-1', stream: true });
    expect(rec?.body).not.toHaveProperty('models');
    expect(rec?.body).not.toHaveProperty('provider');
  });

  it('answers non-streaming requests', async () => {
    openAiFake.enqueue(USAGE_BEHAVIOUR);
    const out = await call(adapter, openAiFake, hi, plainOpts, 'k', basePath);
    expect(out.body).toMatchObject({ id: 'gen-e2e', choices: [{ message: { content: 'alpha beta gamma delta' }, finish_reason: 'stop' }] });
    expect(out.usage?.promptTokens).toBe(120);
  });
});

describe('OpenAI adapter against FakeOpenAiServer: faults', () => {
  const openai = registry.get('openai') as ProviderAdapter;

  it('streams tool calls', async () => {
    openAiFake.enqueue({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] });
    const out = await call(openai, openAiFake, hi, streamOpts, 'k', '/v1');
    expect(toolCallsOf(out.chunks)).toEqual([{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(out.chunks.at(-1)?.choices[0].finish_reason).toBe('tool_calls');
    await expect(finalFromChunks(out.chunks)).resolves.toMatchObject({ id: 'gen-e2e', choices: [{ finish_reason: 'tool_calls' }] });
  });

  it('maps 429 + Retry-After', async () => {
    openAiFake.enqueue({ status: 429, retryAfter: 5 });
    expect((await call(openai, openAiFake, hi, streamOpts, 'k', '/v1')).error).toEqual({ code: ErrorCode.UpstreamRateLimited, retryable: true, retryAfterSeconds: 5 });
  });

  it('turns a cut stream into StreamIncomplete after relaying what arrived', async () => {
    openAiFake.enqueue({ cutAfterEvents: 3, deltas: 4 });
    const out = await call(openai, openAiFake, hi, streamOpts, 'k', '/v1');
    expect(out.chunks).toHaveLength(3);
    expect(out.error).toEqual({ code: ErrorCode.StreamIncomplete, retryable: false });
  });

  it('turns a clean EOF without a finish into StreamIncomplete', async () => {
    openAiFake.enqueue({ cutAfterEvents: 2, cutMode: 'end' });
    expect((await call(openai, openAiFake, hi, streamOpts, 'k', '/v1')).error?.code).toBe(ErrorCode.StreamIncomplete);
  });

  it('throws an in-stream error after the chunks before it', async () => {
    openAiFake.enqueue({ errorAfterEvents: 2, errorCode: 500 });
    const out = await call(openai, openAiFake, hi, streamOpts, 'k', '/v1');
    expect(out.chunks).toHaveLength(2);
    expect(out.error).toEqual({ code: ErrorCode.UpstreamError, retryable: false });
  });

  it('honours the gateway max tokens cap, and a misbehaving upstream can ignore it', async () => {
    openAiFake.enqueue({ completionTokens: 50 }, { completionTokens: 50, ignoreMaxTokens: true });
    expect((await call(openai, openAiFake, hi, { ...plainOpts, maxTokens: 10 }, 'k', '/v1')).usage?.completionTokens).toBe(10);
    expect((await call(openai, openAiFake, hi, { ...plainOpts, maxTokens: 10 }, 'k', '/v1')).usage?.completionTokens).toBe(50);
  });
});

describe('Anthropic adapter against FakeAnthropicServer', () => {
  const anthropic = registry.get('anthropic') as ProviderAdapter;

  it('streams with the same usage as the OpenAI path (cache reads and writes inside prompt tokens)', async () => {
    anthropicFake.enqueue({ ...USAGE_BEHAVIOUR, pings: true });
    const out = await call(anthropic, anthropicFake, hi, streamOpts, 'sk-ant-platform');
    expect(out.error).toBeUndefined();
    expect(contentOf(out.chunks)).toBe('alpha beta gamma delta');
    expect(out.usage).toEqual(EXPECTED_USAGE);
    const rec = anthropicFake.lastRequest();
    expect(rec?.headers['x-api-key']).toBe('sk-ant-platform');
    expect(rec?.headers['anthropic-version']).toBe('2023-06-01');
    expect(rec?.body).toMatchObject({ model: 'upstream-1', max_tokens: 500, system: [{ type: 'text', text: 'Be brief.' }] });
  });

  it('answers non-streaming requests with the same usage', async () => {
    anthropicFake.enqueue(USAGE_BEHAVIOUR);
    const out = await call(anthropic, anthropicFake, hi, plainOpts, 'sk-ant-platform');
    expect(out.usage).toEqual(EXPECTED_USAGE);
    expect(out.body).toMatchObject({ choices: [{ message: { content: 'alpha beta gamma delta' }, finish_reason: 'stop' }] });
  });

  it('runs a thinking + tool loop the fake (like the API) accepts, and round-trips the signature', async () => {
    anthropicFake.enqueue({ thinking: 'Need the weather tool.', signature: 'sig-123', toolCalls: [{ id: 'toolu_9', name: 'get_weather', arguments: { city: 'Lyon' } }] });
    const req: ChatRequest = {
      model: 'pub/model',
      messages: [{ role: 'user', content: 'Weather in Lyon?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      reasoning_effort: 'medium',
    };
    const first = await call(anthropic, anthropicFake, req, streamOpts, 'sk-ant-platform');
    expect(first.error).toBeUndefined();
    expect(toolCallsOf(first.chunks)).toEqual([{ id: 'toolu_9', name: 'get_weather', arguments: '{"city":"Lyon"}' }]);
    expect(first.chunks.at(-1)?.choices[0].finish_reason).toBe('tool_calls');
    const details = first.chunks.flatMap((c) => c.choices[0].delta.reasoning_details ?? []);
    expect(anthropicFake.lastRequest()?.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 }, max_tokens: 2548 });

    anthropicFake.enqueue({ text: 'It is sunny.' });
    const second = await call(
      anthropic,
      anthropicFake,
      {
        ...req,
        messages: [
          ...req.messages,
          { role: 'assistant', content: null, reasoning_details: details, tool_calls: [{ id: 'toolu_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }] },
          { role: 'tool', tool_call_id: 'toolu_9', content: '{"sky":"clear"}' },
        ],
      },
      streamOpts,
      'sk-ant-platform',
    );
    expect(second.error).toBeUndefined();
    expect(contentOf(second.chunks)).toBe('It is sunny.');
    await expect(finalFromChunks(second.chunks)).resolves.toMatchObject({ choices: [{ message: { role: 'assistant', content: 'It is sunny.' }, finish_reason: 'stop' }] });
    const sent = anthropicFake.lastRequest()?.body as { messages: Array<{ role: string; content: unknown[] }> };
    expect(sent.messages[1].content[0]).toEqual({ type: 'thinking', thinking: 'Need the weather tool.', signature: 'sig-123' });
    expect(sent.messages[2].content[0]).toEqual({ type: 'tool_result', tool_use_id: 'toolu_9', content: '{"sky":"clear"}' });
  });

  it('produces chunks the openai SDK stream helper accepts (thinking, text, parallel tools)', async () => {
    anthropicFake.enqueue({
      thinking: 'Plan.',
      text: 'Checking both.',
      toolCalls: [
        { id: 'toolu_a', name: 'get_weather', arguments: { city: 'Lyon' } },
        { id: 'toolu_b', name: 'get_time', arguments: {} },
      ],
    });
    const out = await call(anthropic, anthropicFake, hi, streamOpts, 'sk-ant-platform');
    const final = await finalFromChunks(out.chunks);
    const msg = final.choices[0].message;
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(msg.content).toBe('Checking both.');
    expect(msg.tool_calls?.map((t) => (t.type === 'function' ? [t.id, t.function.name, t.function.arguments] : []))).toEqual([
      ['toolu_a', 'get_weather', '{"city":"Lyon"}'],
      ['toolu_b', 'get_time', '{}'],
    ]);
  });

  it.each([
    [529, ErrorCode.UpstreamUnavailable, true],
    [429, ErrorCode.UpstreamRateLimited, true],
    [400, ErrorCode.InvalidBody, false],
  ])('maps HTTP %i', async (status, code, retryable) => {
    anthropicFake.enqueue({ status, retryAfter: 2 });
    const out = await call(anthropic, anthropicFake, hi, streamOpts, 'sk-ant-platform');
    expect(out.error).toMatchObject({ code, retryable });
  });

  it('maps a wrong key to a non-retryable upstream error', async () => {
    const out = await call(anthropic, anthropicFake, hi, streamOpts, 'sk-ant-wrong');
    expect(out.error).toMatchObject({ code: ErrorCode.UpstreamError, retryable: false });
  });

  it('reports event: error before any output as a retryable error (pre-commit)', async () => {
    anthropicFake.enqueue({ errorAfterEvents: 0 });
    const out = await call(anthropic, anthropicFake, hi, streamOpts, 'sk-ant-platform');
    expect(out.chunks).toEqual([]);
    expect(out.error).toEqual({ code: ErrorCode.UpstreamUnavailable, retryable: true });
  });

  it('turns a stream cut mid-event into StreamIncomplete, keeping the input usage', async () => {
    anthropicFake.enqueue({ ...USAGE_BEHAVIOUR, cutAfterEvents: 4, cutMode: 'mid-event' });
    const out = await call(anthropic, anthropicFake, hi, streamOpts, 'sk-ant-platform');
    expect(out.error?.code).toBe(ErrorCode.StreamIncomplete);
    expect(out.usage?.promptTokens).toBe(120);
  });
});
