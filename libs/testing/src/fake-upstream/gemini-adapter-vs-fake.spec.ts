import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { ErrorCode, type TokenUsage } from '@gw/core';
import { contentOf, geminiAdapter, toolCallsOf, type BuildOptions, type ChatCompletion, type ChatCompletionChunk, type ChatRequest, type ResponseContext } from '@gw/llm';
import { FakeGeminiServer, type FakeGeminiBehaviour } from './fake-gemini.server';

/**
 * The Gemini adapter end to end against FakeGeminiServer over real HTTP: request mapping accepted
 * by the fake's validation (schemas, signatures, response counts), stream transformation, usage,
 * error mapping and embeddings. Plain fetch plays the gateway's upstream client.
 */
const fake = new FakeGeminiServer({ apiKey: 'AIza-platform' });
const ctx: ResponseContext = { id: 'gen-gem', model: 'google/gemini-2.5-flash', created: 1_800_000_000 };
const streamOpts: BuildOptions = { stream: true, unsupportedParams: 'reject', maxTokens: 500 };
const plainOpts: BuildOptions = { ...streamOpts, stream: false };

beforeAll(() => fake.start());
afterAll(() => fake.close());
beforeEach(() => fake.reset());

interface Outcome {
  status: number;
  chunks: ChatCompletionChunk[];
  usage?: TokenUsage;
  error?: { code: string; retryable?: boolean; retryAfterSeconds?: number };
  completion?: ChatCompletion;
}

async function call(req: ChatRequest, opts: BuildOptions, model = 'gemini-2.5-flash', apiKey = 'AIza-platform'): Promise<Outcome> {
  const up = geminiAdapter.buildChatRequest(req, { baseUrl: `${fake.baseUrl}/v1beta`, apiKey, upstreamModel: model }, opts);
  const res = await fetch(up.url, { method: 'POST', headers: up.headers, body: up.body });
  if (res.status >= 400) {
    const e = geminiAdapter.mapError(res.status, await res.text(), Object.fromEntries(res.headers.entries()));
    return { status: res.status, chunks: [], error: { code: e.code, retryable: e.details.retryable, retryAfterSeconds: e.details.retryAfterSeconds } };
  }
  if (!opts.stream) {
    const parsed = geminiAdapter.parseChatResponse(await res.json(), ctx);
    return { status: res.status, chunks: [], usage: parsed.usage, completion: parsed.completion };
  }
  const t = geminiAdapter.createStreamTransformer(ctx);
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

/** The openai SDK's strict accumulator: what a client of the gateway runs on these chunks. */
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

const hi: ChatRequest = { model: 'google/gemini-2.5-flash', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there' }] };
const USAGE: FakeGeminiBehaviour = { text: 'alpha beta gamma delta', thinking: 'Hmm.', promptTokens: 120, cachedTokens: 64, completionTokens: 95, reasoningTokens: 80, toolUsePromptTokens: 6 };
/** §4.6: prompt = 120 + 6 tool-use, cached 64 inside it; completion = 15 candidates + 80 thoughts. */
const EXPECTED_USAGE: TokenUsage = { promptTokens: 126, cachedTokens: 64, cacheWriteTokens: 0, completionTokens: 95, reasoningTokens: 80 };

const weatherTool: ChatRequest['tools'] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather',
      // What zod / MCP produce; the fake answers 400 to any of it reaching `parameters` raw.
      parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', additionalProperties: false, properties: { city: { type: 'string', format: 'uri' }, days: { type: ['integer', 'null'] } }, required: ['city'] },
    },
  },
  { type: 'function', function: { name: '2fa_code', parameters: { type: 'object', properties: {} } } },
];

describe('Gemini adapter against FakeGeminiServer', () => {
  it('streams text with the exact usage (cached inside prompt, thoughts inside completion); key in the header only', async () => {
    fake.enqueue(USAGE);
    const out = await call(hi, streamOpts);
    expect(out.error).toBeUndefined();
    expect(contentOf(out.chunks)).toBe('alpha beta gamma delta');
    expect(out.chunks.flatMap((c) => (c.choices[0].delta.reasoning ? [c.choices[0].delta.reasoning] : [])).join('')).toBe('Hmm.');
    expect(out.chunks.at(-1)?.choices[0].finish_reason).toBe('stop');
    expect(out.usage).toEqual(EXPECTED_USAGE);
    const rec = fake.lastRequest();
    expect(rec?.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(rec?.path).not.toContain('AIza');
    expect(rec?.headers['x-goog-api-key']).toBe('AIza-platform');
    expect(rec?.body).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ role: 'user', parts: [{ text: 'hello there' }] }],
      generationConfig: { maxOutputTokens: 500 },
    });
  });

  it('answers non-streaming requests with the same usage', async () => {
    fake.enqueue(USAGE);
    const out = await call(hi, plainOpts);
    expect(out.usage).toEqual(EXPECTED_USAGE);
    expect(out.completion?.choices[0]).toMatchObject({ message: { content: 'alpha beta gamma delta', reasoning: 'Hmm.' }, finish_reason: 'stop' });
  });

  it('reports STOP with a tool call as tool_calls; the openai SDK accepts the chunks', async () => {
    fake.enqueue({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }, { name: '_gw_2fa_code' }], finishInSeparateChunk: true });
    const out = await call({ ...hi, tools: weatherTool, tool_choice: 'auto' }, streamOpts);
    expect(out.error).toBeUndefined();
    expect(toolCallsOf(out.chunks)).toEqual([
      { id: 'call_gw_gen-gem_0_0', name: 'get_weather', arguments: '{"city":"Lyon"}' },
      { id: 'call_gw_gen-gem_0_1', name: '2fa_code', arguments: '{}' },
    ]);
    const final = await finalFromChunks(out.chunks);
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    const sent = fake.lastRequest()?.body as { tools: Array<{ functionDeclarations: Array<{ name: string }> }>; toolConfig: object };
    expect(sent.tools[0].functionDeclarations.map((d) => d.name)).toEqual(['get_weather', '_gw_2fa_code']);
    expect(sent.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
  });

  it('runs a Gemini 3 tool loop: the thought signature comes back on its call and the fake (like the API) accepts it', async () => {
    const model = 'gemini-3-pro-preview';
    const req: ChatRequest = { model: 'google/gemini-3-pro-preview', messages: [{ role: 'user', content: 'Weather in Lyon and Paris?' }], tools: weatherTool, reasoning_effort: 'high' };
    fake.enqueue({ thinking: 'Two cities.', signature: 'SIG-G3', toolCalls: [{ id: 'fc_a', name: 'get_weather', arguments: { city: 'Lyon' } }, { id: 'fc_b', name: 'get_weather', arguments: { city: 'Paris' } }] });
    const first = await call(req, streamOpts, model);
    expect(first.error).toBeUndefined();
    expect(fake.lastRequest()?.body).toMatchObject({ generationConfig: { thinkingConfig: { thinkingLevel: 'HIGH', includeThoughts: true } } });
    const calls = toolCallsOf(first.chunks);
    expect(calls.map((c) => c.id)).toEqual(['fc_a', 'fc_b']);
    const details = first.chunks.flatMap((c) => c.choices[0].delta.reasoning_details ?? []);
    expect(details).toEqual([{ type: 'reasoning.encrypted', data: 'SIG-G3', format: 'google-gemini-v1', id: 'fc_a', index: 0 }]);

    const history: ChatRequest['messages'] = [
      ...req.messages,
      { role: 'assistant', content: null, reasoning_details: details, tool_calls: calls.map((c) => ({ id: c.id ?? '', type: 'function' as const, function: { name: c.name ?? '', arguments: c.arguments } })) },
      { role: 'tool', tool_call_id: 'fc_a', content: '{"sky":"clear"}' },
      { role: 'tool', tool_call_id: 'fc_b', content: 'rain' },
    ];
    fake.enqueue({ text: 'Lyon is sunny, Paris rainy.' });
    const second = await call({ ...req, messages: history }, streamOpts, model);
    expect(second.error).toBeUndefined();
    expect(contentOf(second.chunks)).toBe('Lyon is sunny, Paris rainy.');
    const sent = fake.lastRequest()?.body as { contents: Array<{ role: string; parts: object[] }> };
    expect(sent.contents[1].parts).toEqual([
      { functionCall: { name: 'get_weather', args: { city: 'Lyon' }, id: 'fc_a' }, thoughtSignature: 'SIG-G3' },
      { functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'fc_b' } },
    ]);
    expect(sent.contents[2].parts).toEqual([
      { functionResponse: { name: 'get_weather', response: { output: { sky: 'clear' } }, id: 'fc_a' } },
      { functionResponse: { name: 'get_weather', response: { output: 'rain' }, id: 'fc_b' } },
    ]);

    // Without the signature the same history is refused, as Gemini 3 does.
    fake.enqueue({ text: 'unused' });
    const unsigned = await call({ ...req, messages: history.map((m) => (m.role === 'assistant' ? { ...m, reasoning_details: [] } : m)) }, streamOpts, model);
    expect(unsigned.error).toEqual({ code: ErrorCode.InvalidBody, retryable: false, retryAfterSeconds: undefined });
  });

  it('honours response_format json_schema and n (candidateCount)', async () => {
    fake.enqueue({ text: '{"a":"b"}' });
    const out = await call({ ...hi, n: 2, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'string' } } } } } }, plainOpts);
    expect(out.completion?.choices.map((c) => c.message.content)).toEqual(['{"a":"b"}', '{"a":"b"}']);
    expect(fake.lastRequest()?.body).toMatchObject({ generationConfig: { candidateCount: 2, responseMimeType: 'application/json', responseJsonSchema: { type: 'object' } } });
  });

  it.each<[string, FakeGeminiBehaviour | undefined, string, string, boolean]>([
    ['a wrong key (400 API_KEY_INVALID)', undefined, 'AIza-wrong', ErrorCode.UpstreamError, false],
    ['429 RESOURCE_EXHAUSTED', { status: 429, retryAfter: 2 }, 'AIza-platform', ErrorCode.UpstreamRateLimited, true],
    ['503 UNAVAILABLE', { status: 503 }, 'AIza-platform', ErrorCode.UpstreamUnavailable, true],
    ['500 INTERNAL', { status: 500 }, 'AIza-platform', ErrorCode.UpstreamError, true],
    ['400 INVALID_ARGUMENT', { status: 400 }, 'AIza-platform', ErrorCode.InvalidBody, false],
  ])('maps %s', async (_name, behaviour, key, code, retryable) => {
    if (behaviour) fake.enqueue(behaviour);
    const out = await call(hi, streamOpts, 'gemini-2.5-flash', key);
    expect(out.error).toMatchObject({ code, retryable });
  });

  it('turns a clean EOF without finishReason, and a destroyed socket, into StreamIncomplete', async () => {
    fake.enqueue({ ...USAGE, deltas: 4, cutAfterEvents: 3, cutMode: 'end' }, { deltas: 4, cutAfterEvents: 2 });
    const ended = await call(hi, streamOpts);
    expect(ended.error).toEqual({ code: ErrorCode.StreamIncomplete, retryable: false });
    expect(ended.usage?.promptTokens).toBe(126);
    expect((await call(hi, streamOpts)).error?.code).toBe(ErrorCode.StreamIncomplete);
  });

  it('throws an in-stream error after the chunks before it, retryable only before any output', async () => {
    fake.enqueue({ errorAfterEvents: 2, errorType: 'RESOURCE_EXHAUSTED' }, { errorAfterEvents: 0, errorType: 'UNAVAILABLE' });
    const late = await call(hi, streamOpts);
    expect(contentOf(late.chunks)).not.toBe('');
    expect(late.error).toEqual({ code: ErrorCode.UpstreamRateLimited, retryable: false });
    const early = await call(hi, streamOpts);
    expect(early.chunks).toEqual([]);
    expect(early.error).toEqual({ code: ErrorCode.UpstreamUnavailable, retryable: true });
  });

  it('finishes a blocked prompt with content_filter', async () => {
    fake.enqueue({ promptBlockReason: 'SAFETY' });
    const out = await call(hi, streamOpts);
    expect(out.chunks.at(-1)?.choices[0].finish_reason).toBe('content_filter');
  });

  it('embeds through embedContent and batchEmbedContents', async () => {
    const build = geminiAdapter.buildEmbeddingsRequest;
    const parse = geminiAdapter.parseEmbeddingsResponse;
    if (build === undefined || parse === undefined) throw new Error('google has embeddings');
    const target = { baseUrl: `${fake.baseUrl}/v1beta`, apiKey: 'AIza-platform', upstreamModel: 'gemini-embedding-001' };
    const run = async (input: string | string[], encodingFormat?: 'float' | 'base64') => {
      const up = build.call(geminiAdapter, { model: 'google/gemini-embedding-001', input, dimensions: 4 }, target, { unsupportedParams: 'reject' });
      const res = await fetch(up.url, { method: 'POST', headers: up.headers, body: up.body });
      expect(res.status).toBe(200);
      return parse.call(geminiAdapter, await res.json(), { ...ctx, model: 'google/gemini-embedding-001', encodingFormat });
    };
    const one = await run('hello');
    expect(fake.lastRequest()?.path).toBe('/v1beta/models/gemini-embedding-001:embedContent');
    expect(one.response.data).toHaveLength(1);
    expect((one.response.data[0].embedding as number[]).length).toBe(4);
    const many = await run(['hello', 'world'], 'base64');
    expect(fake.lastRequest()?.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(many.response.data.map((d) => d.index)).toEqual([0, 1]);
    expect(Buffer.from(many.response.data[0].embedding as string, 'base64').length).toBe(16);
    expect(many.response.model).toBe('google/gemini-embedding-001');
  });
});
