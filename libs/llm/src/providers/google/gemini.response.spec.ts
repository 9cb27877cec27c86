import { DomainError, ErrorCode } from '@gw/core';
import type { ResponseContext } from '../../provider';
import { geminiAdapter } from './gemini.adapter';
import { geminiUsageToTokenUsage, mapFinishReason } from './gemini.response';

const ctx: ResponseContext = { id: 'gen-g', model: 'google/gemini-2.5-flash', created: 1_760_000_000 };
const parse = (body: unknown) => geminiAdapter.parseChatResponse(body, ctx);
const caught = (f: () => unknown): DomainError => {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

describe('Gemini usage (wire-formats.md §4.6)', () => {
  it('prompt = promptTokenCount + toolUsePromptTokenCount, cached inside it, completion = candidates + thoughts', () => {
    expect(
      geminiUsageToTokenUsage({ promptTokenCount: 120, cachedContentTokenCount: 64, toolUsePromptTokenCount: 10, candidatesTokenCount: 15, thoughtsTokenCount: 80, totalTokenCount: 225 }),
    ).toEqual({ promptTokens: 130, cachedTokens: 64, cacheWriteTokens: 0, completionTokens: 95, reasoningTokens: 80 });
    expect(geminiUsageToTokenUsage({ promptTokenCount: 5 })).toEqual({ promptTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 0, reasoningTokens: 0 });
  });

  it('keeps total_tokens = prompt + completion on the OpenAI usage', () => {
    const { completion } = parse({
      candidates: [{ content: { role: 'model', parts: [{ text: 'x' }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 120, cachedContentTokenCount: 64, candidatesTokenCount: 15, thoughtsTokenCount: 80, totalTokenCount: 215 },
    });
    expect(completion.usage).toEqual({
      prompt_tokens: 120,
      completion_tokens: 95,
      total_tokens: 215,
      prompt_tokens_details: { cached_tokens: 64 },
      completion_tokens_details: { reasoning_tokens: 80 },
    });
  });
});

describe('Gemini finish reasons (wire-formats.md §4.4)', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['IMAGE_SAFETY', false, 'content_filter'],
    ['LANGUAGE', false, 'stop'],
    ['OTHER', false, 'stop'],
    ['SOMETHING_NEW', false, 'stop'],
  ])('%s (tool call seen: %s) -> %s', (reason, saw, expected) => {
    expect(mapFinishReason(reason, saw)).toBe(expected);
  });
});

describe('Gemini response parsing', () => {
  it('separates thoughts from text, emits tool calls with STOP -> tool_calls, carries signatures', () => {
    const { completion, usage } = parse({
      candidates: [
        {
          index: 0,
          finishReason: 'STOP',
          content: {
            role: 'model',
            parts: [
              { text: 'Plan: call weather tool.', thought: true },
              { text: 'Checking ' },
              { text: 'Lyon.' },
              { functionCall: { name: 'get_weather', args: { city: 'Lyon' }, id: 'fc_9' }, thoughtSignature: 'CsYB' },
              { functionCall: { name: '_gw_2fa', args: {} } },
            ],
          },
        },
      ],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
      modelVersion: 'gemini-2.5-flash',
    });
    expect(completion).toEqual({
      id: 'gen-g',
      object: 'chat.completion',
      created: 1_760_000_000,
      model: 'google/gemini-2.5-flash',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          logprobs: null,
          message: {
            role: 'assistant',
            content: 'Checking Lyon.',
            reasoning: 'Plan: call weather tool.',
            tool_calls: [
              { id: 'fc_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } },
              { id: 'call_gw_gen-g_0_1', type: 'function', function: { name: '2fa', arguments: '{}' } },
            ],
            reasoning_details: [{ type: 'reasoning.encrypted', data: 'CsYB', format: 'google-gemini-v1', id: 'fc_9', index: 0 }],
          },
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    });
    expect(usage?.promptTokens).toBe(10);
  });

  it('returns one choice per candidate, in index order, with logprobs', () => {
    const { completion } = parse({
      candidates: [
        { index: 1, finishReason: 'MAX_TOKENS', content: { parts: [{ text: 'b' }] } },
        {
          index: 0,
          finishReason: 'STOP',
          content: { parts: [{ text: 'a' }] },
          logprobsResult: { chosenCandidates: [{ token: 'a', logProbability: -0.1 }], topCandidates: [{ candidates: [{ token: 'a', logProbability: -0.1 }, { token: 'b', logProbability: -2 }] }] },
        },
      ],
    });
    expect(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, 'a', 'stop'],
      [1, 'b', 'length'],
    ]);
    expect(completion.choices[0].logprobs).toEqual({
      content: [{ token: 'a', logprob: -0.1, bytes: [97], top_logprobs: [{ token: 'a', logprob: -0.1, bytes: [97] }, { token: 'b', logprob: -2, bytes: [98] }] }],
      refusal: null,
    });
    expect(completion).not.toHaveProperty('usage');
  });

  it('answers a blocked prompt (no candidates) with content_filter', () => {
    const { completion, usage } = parse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } });
    expect(completion.choices).toEqual([{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'content_filter', logprobs: null }]);
    expect(usage?.promptTokens).toBe(7);
  });

  it('turns a failed tool call with no output into a retryable error (the gateway can try again)', () => {
    expect(caught(() => parse({ candidates: [{ finishReason: 'MALFORMED_FUNCTION_CALL', content: { parts: [] } }] }))).toMatchObject({
      code: ErrorCode.UpstreamBadResponse,
      details: { retryable: true, meta: { finishReason: 'MALFORMED_FUNCTION_CALL' } },
    });
  });

  it('maps a 200 body carrying an error, and rejects unusable bodies as retryable', () => {
    expect(caught(() => parse({ error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' } })).code).toBe(ErrorCode.UpstreamRateLimited);
    expect(caught(() => parse('nope'))).toMatchObject({ code: ErrorCode.UpstreamBadResponse, details: { retryable: true } });
    expect(caught(() => parse({ candidates: [] })).code).toBe(ErrorCode.UpstreamBadResponse);
  });
});

describe('Gemini error mapping (wire-formats.md §3.9, §4.10)', () => {
  const body = (code: number, status: string, message: string, reason?: string) =>
    JSON.stringify({ error: { code, message, status, ...(reason ? { details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason }] } : {}) } });

  it('400 API_KEY_INVALID is an authentication failure: not retryable, upstream text not echoed', () => {
    const e = geminiAdapter.mapError(400, body(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', 'API_KEY_INVALID'), {});
    expect(e.code).toBe(ErrorCode.UpstreamError);
    expect(e.details).toMatchObject({ retryable: false, upstreamStatus: 401, meta: { upstreamAuth: true, upstreamHttpStatus: 400, upstreamCode: 'API_KEY_INVALID' } });
    expect(e.details.meta).not.toHaveProperty('upstreamMessage');
  });

  it.each([
    [429, 'RESOURCE_EXHAUSTED', ErrorCode.UpstreamRateLimited, true],
    [500, 'INTERNAL', ErrorCode.UpstreamError, true],
    [503, 'UNAVAILABLE', ErrorCode.UpstreamUnavailable, true],
    [504, 'DEADLINE_EXCEEDED', ErrorCode.UpstreamTimeout, true],
    [400, 'INVALID_ARGUMENT', ErrorCode.InvalidBody, false],
    [400, 'FAILED_PRECONDITION', ErrorCode.InvalidBody, false],
    [403, 'PERMISSION_DENIED', ErrorCode.UpstreamError, false],
    [404, 'NOT_FOUND', ErrorCode.NotFound, false],
  ])('%i %s -> %s (retryable %s)', (status, name, code, retryable) => {
    const e = geminiAdapter.mapError(status, body(status, name, 'msg'), { 'retry-after': '3' });
    expect(e.code).toBe(code);
    expect(e.details.retryable).toBe(retryable);
    expect(e.details.meta?.upstreamType).toBe(name);
  });

  it('recognises an over-long prompt', () => {
    const e = geminiAdapter.mapError(400, body(400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'), {});
    expect(e.code).toBe(ErrorCode.ContextLengthExceeded);
  });

  it('reads the array form (streamGenerateContent without alt=sse) and non-JSON bodies', () => {
    expect(geminiAdapter.mapError(429, `[${body(429, 'RESOURCE_EXHAUSTED', 'quota')}]`, {}).details.meta?.upstreamMessage).toBe('quota');
    expect(geminiAdapter.mapError(502, '<html>bad gateway</html>', {}).code).toBe(ErrorCode.UpstreamError);
  });
});

describe('Gemini embeddings response', () => {
  const parseEmb = geminiAdapter.parseEmbeddingsResponse;
  if (parseEmb === undefined) throw new Error('google has embeddings');
  const ectx = { ...ctx, model: 'google/gemini-embedding-001' };

  it('reads embedContent and batchEmbedContents, in the requested encoding', () => {
    expect(parseEmb.call(geminiAdapter, { embedding: { values: [0.5, -0.25] } }, ectx)).toEqual({
      response: { object: 'list', model: 'google/gemini-embedding-001', data: [{ object: 'embedding', index: 0, embedding: [0.5, -0.25] }], usage: { prompt_tokens: 0, total_tokens: 0 } },
    });
    const b64 = parseEmb.call(geminiAdapter, { embeddings: [{ values: [1] }, { values: [0.5, -2] }] }, { ...ectx, encodingFormat: 'base64' });
    expect(b64.response.data.map((d) => d.embedding)).toEqual([Buffer.from(new Float32Array([1]).buffer).toString('base64'), Buffer.from(new Float32Array([0.5, -2]).buffer).toString('base64')]);
    expect(b64.usage).toBeUndefined();
  });

  it('reports usage when the upstream gives it, and rejects unusable bodies', () => {
    expect(parseEmb.call(geminiAdapter, { embedding: { values: [1] }, usageMetadata: { promptTokenCount: 4 } }, ectx).usage?.promptTokens).toBe(4);
    expect(caught(() => parseEmb.call(geminiAdapter, { embeddings: [] }, ectx)).code).toBe(ErrorCode.UpstreamBadResponse);
    expect(caught(() => parseEmb.call(geminiAdapter, { embedding: { values: ['x'] } }, ectx)).code).toBe(ErrorCode.UpstreamBadResponse);
  });
});
