import { SseParser } from '@gw/llm';
import { FakeGeminiServer } from './fake-gemini.server';

/** Drives the Gemini fake over plain HTTP: the real API's shapes, behaviours and 400s. */
const fake = new FakeGeminiServer({ apiKey: 'AIza-platform' });
let base: string;

beforeAll(async () => {
  base = `${await fake.start()}/v1beta`;
});
afterAll(() => fake.close());
beforeEach(() => fake.reset().setDefaults({}));

const hello = { contents: [{ role: 'user', parts: [{ text: 'hello there' }] }] };

async function post(path: string, body: unknown, key: string | null = 'AIza-platform'): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers['x-goog-api-key'] = key;
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

function sseJson(text: string): Array<Record<string, unknown>> {
  const p = new SseParser();
  return [...p.pushText(text), ...p.end()].map((e) => JSON.parse(e.data) as Record<string, unknown>);
}

describe('FakeGeminiServer', () => {
  it('answers generateContent with thoughts, text and Gemini usage bases, and records the key header', async () => {
    fake.enqueue({ text: 'alpha beta', thinking: 'Let me think.', promptTokens: 120, cachedTokens: 64, completionTokens: 95, reasoningTokens: 80, toolUsePromptTokens: 6 });
    const r = await post('/models/gemini-2.5-flash:generateContent', hello);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      candidates: [
        {
          index: 0,
          finishReason: 'STOP',
          content: { role: 'model', parts: [{ text: 'Let me think.', thought: true }, { text: 'alpha beta', thoughtSignature: 'fake-thought-signature' }] },
        },
      ],
      usageMetadata: { promptTokenCount: 120, cachedContentTokenCount: 64, toolUsePromptTokenCount: 6, candidatesTokenCount: 15, thoughtsTokenCount: 80, totalTokenCount: 221 },
      modelVersion: 'gemini-2.5-flash',
      responseId: expect.any(String),
    });
    expect(fake.lastRequest()?.headers['x-goog-api-key']).toBe('AIza-platform');
    expect(fake.lastRequest()?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
  });

  it('refuses a wrong or missing key the way Gemini does: 400 with API_KEY_INVALID', async () => {
    for (const key of ['AIza-wrong', null]) {
      const r = await post('/models/gemini-2.5-flash:generateContent', hello, key);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
        },
      });
    }
  });

  it('streams SSE chunks (CRLF-delimited), calls whole with a signature, STOP for tool calls', async () => {
    fake.enqueue({ text: 'one two three four', deltas: 2, toolCalls: [{ name: 'get_weather', arguments: { city: 'Lyon' } }, { id: 'fc-2', name: 'get_time' }], promptTokens: 10, completionTokens: 20 });
    const r = await post('/models/gemini-2.5-flash:streamGenerateContent?alt=sse', hello);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    expect(r.text).toContain('\r\n\r\n');
    const chunks = sseJson(r.text);
    const parts = chunks.flatMap((c) => (c.candidates as Array<{ content: { parts: unknown[] } }>)[0].content.parts);
    expect(parts).toEqual([
      { text: 'one two ' },
      { text: 'three four' },
      { functionCall: { name: 'get_weather', args: { city: 'Lyon' } }, thoughtSignature: 'fake-thought-signature' },
      { functionCall: { name: 'get_time', args: {}, id: 'fc-2' } },
    ]);
    const last = chunks.at(-1) as { candidates: Array<{ finishReason?: string }>; usageMetadata: object };
    expect(last.candidates[0].finishReason).toBe('STOP');
    expect(last.usageMetadata).toEqual({ promptTokenCount: 10, candidatesTokenCount: 20, totalTokenCount: 30 });
    expect((chunks[0] as { usageMetadata: object }).usageMetadata).toEqual({ promptTokenCount: 10, totalTokenCount: 10 });
  });

  it('can send the finish in a trailing chunk, and answers a JSON array without alt=sse', async () => {
    fake.enqueue({ text: 'hi', finishInSeparateChunk: true }, { text: 'hi' });
    const chunks = sseJson((await post('/models/m:streamGenerateContent?alt=sse', hello)).text);
    expect(chunks.at(-1)).toMatchObject({ candidates: [{ content: { parts: [{ text: '' }] }, finishReason: 'STOP' }] });
    const arr = await post('/models/m:streamGenerateContent', hello);
    expect(Array.isArray(arr.json)).toBe(true);
  });

  it('blocks prompts, maps statuses to Google error bodies, and injects in-stream faults', async () => {
    fake.enqueue({ promptBlockReason: 'SAFETY' });
    expect((await post('/models/m:generateContent', hello)).json).toMatchObject({ promptFeedback: { blockReason: 'SAFETY' } });
    fake.enqueue({ status: 429, retryAfter: 7 });
    const limited = await post('/models/m:generateContent', hello);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.json).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } });
    fake.enqueue({ errorAfterEvents: 1, errorType: 'UNAVAILABLE' });
    const err = sseJson((await post('/models/m:streamGenerateContent?alt=sse', hello)).text);
    expect(err.at(-1)).toEqual({ error: { code: 503, message: expect.any(String), status: 'UNAVAILABLE' } });
    fake.enqueue({ malformedAfterEvents: 1 });
    expect((await post('/models/m:streamGenerateContent?alt=sse', hello)).text).toContain('data: {"candidates":[{"content":\r\n');
  });

  it.each<[string, object, RegExp, string?]>([
    ['empty parts', { contents: [{ role: 'user', parts: [] }] }, /parts must not be empty/],
    ['an empty text part', { contents: [{ role: 'user', parts: [{ text: '' }] }] }, /required oneof field 'data'/],
    ['two data fields in a part', { contents: [{ role: 'user', parts: [{ text: 'a', inlineData: { mimeType: 'image/png', data: 'x' } }] }] }, /required oneof field 'data'/],
    ['a data: prefix in inlineData', { contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: 'data:image/png;base64,x' } }] }] }, /Base64 decoding failed/],
    ['the function role', { contents: [{ role: 'function', parts: [{ text: 'a' }] }] }, /valid role/],
    [
      'a response count that does not match the calls',
      { contents: [hello.contents[0], { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }, { functionCall: { name: 'g', args: {} } }] }, { role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] }] },
      /number of function response parts is equal/,
    ],
    [
      'a missing thought signature on Gemini 3',
      { contents: [hello.contents[0], { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] }, { role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] }] },
      /missing a thought_signature/,
      'gemini-3-pro-preview',
    ],
    ['additionalProperties in parameters', { ...hello, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', additionalProperties: false, properties: { a: { type: 'STRING' } } } }] }] }, /Unknown name "additionalProperties"/],
    ['a type array', { ...hello, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: { a: { type: ['STRING', 'NULL'] } } } }] }] }, /not repeating/],
    ['an empty OBJECT', { ...hello, tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'OBJECT', properties: {} } }] }] }, /non-empty for OBJECT/],
    ['an invalid function name', { ...hello, tools: [{ functionDeclarations: [{ name: '2fa' }] }] }, /Invalid function name/],
    ['both thinking budget and level', { ...hello, generationConfig: { thinkingConfig: { thinkingBudget: 1, thinkingLevel: 'LOW' } } }, /only one of thinking budget and thinking level/],
  ])('answers 400 to %s', async (_name, body, message, model = 'gemini-2.5-flash') => {
    const r = await post(`/models/${model}:generateContent`, body);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(message) } });
  });

  it('accepts a Gemini 3 call turn that carries its signature', async () => {
    const body = {
      contents: [hello.contents[0], { role: 'model', parts: [{ functionCall: { name: 'f', args: {} }, thoughtSignature: 'sig' }] }, { role: 'user', parts: [{ functionResponse: { name: 'f', response: { output: 1 } } }] }],
    };
    expect((await post('/models/gemini-3-pro-preview:generateContent', body)).status).toBe(200);
  });

  it('embeds one text (embedContent) or several (batchEmbedContents), deterministically', async () => {
    const one = await post('/models/gemini-embedding-001:embedContent', { content: { parts: [{ text: 'hi' }] }, outputDimensionality: 4 });
    const values = (one.json as { embedding: { values: number[] } }).embedding.values;
    expect(values).toHaveLength(4);
    const batch = await post('/models/gemini-embedding-001:batchEmbedContents', {
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'hi' }] }, outputDimensionality: 4 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'other' }] } },
      ],
    });
    const embeddings = (batch.json as { embeddings: Array<{ values: number[] }> }).embeddings;
    expect(embeddings[0].values).toEqual(values);
    expect(embeddings[1].values).toHaveLength(8);
    const mismatch = await post('/models/gemini-embedding-001:batchEmbedContents', { requests: [{ model: 'models/other', content: { parts: [{ text: 'x' }] } }] });
    expect(mismatch.status).toBe(400);
  });

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    const r = await post('/models/m:countTokens', hello);
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ error: { status: 'NOT_FOUND' } });
  });
});
