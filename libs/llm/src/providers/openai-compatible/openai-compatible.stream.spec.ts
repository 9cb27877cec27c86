import { ErrorCode } from '@gw/core';
import { checkEverySplit, contentOf, runStream, toBytes, toolCallsOf } from '../../stream-conformance';
import type { ResponseContext } from '../../provider';
import { createOpenAiCompatibleAdapter } from './openai-compatible.adapter';
import { OPENAI_COMPATIBLE_ADAPTERS } from './openai-compatible.vendors';

const ctx: ResponseContext = { id: 'gen-123', model: 'openai/gpt-4o', created: 1_800_000_000 };
const byId = (id: string) => {
  const a = OPENAI_COMPATIBLE_ADAPTERS.find((x) => x.id === id);
  if (!a) throw new Error(id);
  return a;
};
const openai = byId('openai');

const head = '"id":"chatcmpl-up","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06"';
const ev = (body: string) => `data: {${head},${body}}\n\n`;
const USAGE = '{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920},"completion_tokens_details":{"reasoning_tokens":192}}';

const TEXT_STREAM =
  ': OPENROUTER PROCESSING\n\n' +
  ev('"system_fingerprint":"fp_1","obfuscation":"xyz","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null') +
  ev('"choices":[{"index":0,"delta":{"content":"Héllo"},"finish_reason":null}],"usage":null') +
  ev('"choices":[{"index":0,"delta":{"content":" wörld 😀"},"finish_reason":null}],"usage":null') +
  ev('"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null') +
  ev(`"choices":[],"usage":${USAGE},"obfuscation":"pad"`) +
  'data: [DONE]\n\n';

const TOOL_STREAM =
  ev('"choices":[{"index":0,"delta":{"role":"assistant","content":"Let me check."},"finish_reason":null}]') +
  ev('"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]') +
  ev('"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]},"finish_reason":null}]') +
  ev('"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]},"finish_reason":null}]') +
  ev('"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]') +
  ev('"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]') +
  ev(`"choices":[],"usage":${USAGE}`) +
  'data: [DONE]\n\n';

describe('OpenAI-compatible stream transformer', () => {
  it('rewrites id/model/created, drops obfuscation and swallows the usage-only chunk, identically at every split', () => {
    const { reference, mismatches } = checkEverySplit(() => openai.createStreamTransformer(ctx), TEXT_STREAM);
    expect(mismatches).toEqual([]);
    expect(reference.error).toBeUndefined();
    expect(reference.chunks).toHaveLength(4);
    for (const c of reference.chunks) {
      expect(c).toMatchObject({ id: 'gen-123', model: 'openai/gpt-4o', created: 1_800_000_000, object: 'chat.completion.chunk' });
      expect(c).not.toHaveProperty('obfuscation');
      expect(c).not.toHaveProperty('usage');
      expect(c.choices.length).toBeGreaterThan(0);
    }
    expect(reference.chunks[0].system_fingerprint).toBe('fp_1');
    expect(contentOf(reference.chunks)).toBe('Héllo wörld 😀');
    expect(reference.chunks[3].choices[0].finish_reason).toBe('stop');
    expect(reference.usage).toEqual({ promptTokens: 2006, cachedTokens: 1920, cacheWriteTokens: 0, completionTokens: 300, reasoningTokens: 192 });
    expect(reference.finished).toBe(true);
  });

  it('passes tool-call deltas through by index, identically at every split', () => {
    const { reference, mismatches } = checkEverySplit(() => openai.createStreamTransformer(ctx), TOOL_STREAM);
    expect(mismatches).toEqual([]);
    expect(toolCallsOf(reference.chunks)).toEqual([
      { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_2', name: 'get_time', arguments: '{}' },
    ]);
    expect(reference.chunks.at(-1)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('numbers tool-call deltas that come without index (Mistral): a new id opens a call, a bare fragment continues the last', () => {
    const s =
      ev('"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"a1","type":"function","function":{"name":"f","arguments":"{\\"x\\":"}},{"id":"b2","type":"function","function":{"name":"g","arguments":"{\\"y\\":2}"}}]},"finish_reason":null}]') +
      ev('"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a1","function":{"arguments":"1}"}}]},"finish_reason":null}]') +
      ev('"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c3","type":"function","function":{"name":"h","arguments":"{"}}]},"finish_reason":null}]') +
      ev('"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"}"}}]},"finish_reason":"tool_calls"}]') +
      'data: [DONE]\n\n';
    const { reference, mismatches } = checkEverySplit(() => byId('mistral').createStreamTransformer(ctx), s);
    expect(mismatches).toEqual([]);
    const indices = reference.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((t) => t.index);
    expect(indices).toEqual([0, 1, 0, 2, 2]);
    expect(toolCallsOf(reference.chunks)).toEqual([
      { id: 'a1', name: 'f', arguments: '{"x":1}' },
      { id: 'b2', name: 'g', arguments: '{"y":2}' },
      { id: 'c3', name: 'h', arguments: '{}' },
    ]);
  });

  it('records usage that arrives on a chunk with choices and strips it from that chunk', () => {
    const s =
      ev('"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]') +
      ev(`"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":${USAGE}`) +
      'data: [DONE]\n\n';
    const { reference, mismatches } = checkEverySplit(() => openai.createStreamTransformer(ctx), s);
    expect(mismatches).toEqual([]);
    expect(reference.chunks).toHaveLength(2);
    expect(reference.chunks[1]).not.toHaveProperty('usage');
    expect(reference.usage?.promptTokens).toBe(2006);
  });

  it('keeps the last usage when a vendor repeats it on every chunk', () => {
    const u = (p: number, c: number) => `{"prompt_tokens":${p},"completion_tokens":${c},"total_tokens":${p + c}}`;
    const s =
      ev(`"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}],"usage":${u(5, 1)}`) +
      ev(`"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"stop"}],"usage":${u(5, 2)}`) +
      'data: [DONE]\n\n';
    expect(runStream(openai.createStreamTransformer(ctx), [toBytes(s)]).usage).toMatchObject({ promptTokens: 5, completionTokens: 2 });
  });

  it('reads usage inside the choice and in a vendor object, per spec', () => {
    const moonshot = byId('moonshot');
    const s1 = ev(`"choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":${USAGE}}]`) + 'data: [DONE]\n\n';
    const r1 = runStream(moonshot.createStreamTransformer(ctx), [toBytes(s1)]);
    expect(r1.usage?.promptTokens).toBe(2006);
    expect(r1.chunks[0].choices[0]).not.toHaveProperty('usage');

    const groq = byId('groq');
    const s2 = ev(`"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":${USAGE}}`) + 'data: [DONE]\n\n';
    const r2 = runStream(groq.createStreamTransformer(ctx), [toBytes(s2)]);
    expect(r2.usage?.completionTokens).toBe(300);
    expect(r2.chunks[0]).not.toHaveProperty('x_groq');
  });

  it("flattens Mistral's streamed content chunks, at every split: thinking as reasoning deltas, text as content", () => {
    const s =
      ev('"choices":[{"index":0,"delta":{"role":"assistant","content":[{"type":"thinking","thinking":[{"type":"text","text":"Hmm, "}]}]},"finish_reason":null}]') +
      ev('"choices":[{"index":0,"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"two and two."}]}]},"finish_reason":null}]') +
      ev('"choices":[{"index":0,"delta":{"content":[{"type":"text","text":"Four"}]},"finish_reason":null}]') +
      ev('"choices":[{"index":0,"delta":{"content":"."},"finish_reason":"stop"}]') +
      'data: [DONE]\n\n';
    const { reference, mismatches } = checkEverySplit(() => byId('mistral').createStreamTransformer(ctx), s);
    expect(mismatches).toEqual([]);
    expect(contentOf(reference.chunks)).toBe('Four.');
    expect(reference.chunks.map((c) => c.choices[0]?.delta.reasoning ?? '').join('')).toBe('Hmm, two and two.');
    expect(reference.chunks.every((c) => c.choices.every((ch) => ch.delta.content === undefined || typeof ch.delta.content === 'string'))).toBe(true);
  });

  it('counts reasoning outside completion for vendors that report it that way', () => {
    const s = ev('"choices":[{"index":0,"delta":{"reasoning_content":"think"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":40,"completion_tokens_details":{"reasoning_tokens":28}}') + 'data: [DONE]\n\n';
    const r = runStream(byId('xai').createStreamTransformer(ctx), [toBytes(s)]);
    expect(r.usage).toMatchObject({ completionTokens: 30, reasoningTokens: 28 });
    expect(r.chunks[0].choices[0].delta).toEqual({ reasoning: 'think' });
  });

  it('keeps declared vendor fields such as citations', () => {
    const s = ev('"citations":["https://a"],"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]') + 'data: [DONE]\n\n';
    const r = runStream(byId('perplexity').createStreamTransformer(ctx), [toBytes(s)]);
    expect(r.chunks[0]).toMatchObject({ citations: ['https://a'] });
    expect(runStream(openai.createStreamTransformer(ctx), [toBytes(s)]).chunks[0]).not.toHaveProperty('citations');
  });

  it('returns the chunks before an in-stream error, then throws it, at every split', () => {
    const s =
      ev('"choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]') +
      'data: {"error":{"message":"The server had an error","type":"server_error","code":502}}\n\n';
    const { reference, mismatches } = checkEverySplit(() => openai.createStreamTransformer(ctx), s);
    expect(mismatches).toEqual([]);
    expect(contentOf(reference.chunks)).toBe('partial');
    expect(reference.error).toMatchObject({ code: ErrorCode.UpstreamError, retryable: false });
  });

  it('fails, at every split, on finish_reason "error" without an error object (OpenRouter): never a finished stream', () => {
    const s =
      ev('"choices":[{"index":0,"delta":{"content":"Partial ans"},"finish_reason":null}]') +
      ev('"choices":[{"index":0,"delta":{},"finish_reason":"error"}]') +
      'data: [DONE]\n\n';
    const { reference, mismatches } = checkEverySplit(() => byId('openrouter').createStreamTransformer(ctx), s);
    expect(mismatches).toEqual([]);
    expect(contentOf(reference.chunks)).toBe('Partial ans');
    expect(reference.chunks.some((c) => c.choices.some((ch) => ch.finish_reason !== null))).toBe(false);
    expect(reference.error).toMatchObject({ code: ErrorCode.UpstreamError, retryable: false });
    // Before any output reached the client it may still fail over.
    const first = byId('openrouter').createStreamTransformer(ctx);
    expect(() => first.push(toBytes(ev('"choices":[{"index":0,"delta":{},"finish_reason":"error"}]')))).toThrow(
      expect.objectContaining({ code: ErrorCode.UpstreamError, details: expect.objectContaining({ retryable: true }) }),
    );
  });

  it('throws a retryable error when the first event is an error (pre-commit)', () => {
    const t = openai.createStreamTransformer(ctx);
    expect(() => t.push(toBytes('data: {"error":{"message":"Rate limit reached","type":"rate_limit_error","code":429}}\n\n'))).toThrow(
      expect.objectContaining({ code: ErrorCode.UpstreamRateLimited, details: expect.objectContaining({ retryable: true }) }),
    );
  });

  it('ignores anything after [DONE]', () => {
    const s = ev('"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]') + 'data: [DONE]\n\ndata: {"error":{"message":"late"}}\n\n';
    const r = runStream(openai.createStreamTransformer(ctx), [toBytes(s)]);
    expect(r.error).toBeUndefined();
    expect(r.chunks).toHaveLength(1);
  });

  it.each([
    ['cut after some content', ev('"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]')],
    ['cut mid-event', ev('"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]') + 'data: {"id":"c","choi'],
    ['nothing at all', ''],
  ])('end() throws StreamIncomplete when the stream is truncated: %s', (_name, s) => {
    const { reference, mismatches } = checkEverySplit(() => openai.createStreamTransformer(ctx), s, 5);
    expect(mismatches).toEqual([]);
    expect(reference.error?.code).toBe(ErrorCode.StreamIncomplete);
    expect(reference.finished).toBe(false);
  });

  it('accepts a stream whose every choice finished even if [DONE] never came', () => {
    const s = ev('"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"length"}]');
    const r = runStream(openai.createStreamTransformer(ctx), [toBytes(s)]);
    expect(r.error).toBeUndefined();
    expect(r.finished).toBe(true);
  });

  it('fails, at every split, a stream whose [DONE] comes before its choice finished (a truncating proxy)', () => {
    const s = ev('"choices":[{"index":0,"delta":{"content":"half an ans"},"finish_reason":null}]') + 'data: [DONE]\n\n';
    const { reference, mismatches } = checkEverySplit(() => openai.createStreamTransformer(ctx), s);
    expect(mismatches).toEqual([]);
    expect(contentOf(reference.chunks)).toBe('half an ans');
    expect([reference.error?.code, reference.error?.retryable, reference.finished]).toEqual([ErrorCode.StreamIncomplete, false, false]);
  });

  it('waits for every choice of n>1 to finish', () => {
    const s =
      ev('"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null},{"index":1,"delta":{"content":"b"},"finish_reason":null}]') +
      ev('"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]');
    const r = runStream(openai.createStreamTransformer(ctx), [toBytes(s)]);
    expect(r.error?.code).toBe(ErrorCode.StreamIncomplete);
    // A choice that has not begun when the stream is cut is running too (n=2, only choice 0 came).
    const cut = ev('"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]') + ev('"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]');
    const two = runStream(openai.createStreamTransformer({ ...ctx, choices: 2 }), [toBytes(cut)]);
    expect([two.error?.code, two.finished]).toEqual([ErrorCode.StreamIncomplete, false]);
    expect(runStream(openai.createStreamTransformer(ctx), [toBytes(cut)]).error).toBeUndefined();
    expect(runStream(openai.createStreamTransformer({ ...ctx, choices: 2 }), [toBytes(cut + 'data: [DONE]\n\n')]).error).toBeUndefined();
  });

  it('relays valid events then fails with StreamIncomplete on a malformed one', () => {
    const s = ev('"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":null}]') + 'data: {not json}\n\n' + 'data: [DONE]\n\n';
    const { reference, mismatches } = checkEverySplit(() => openai.createStreamTransformer(ctx), s);
    expect(mismatches).toEqual([]);
    expect(contentOf(reference.chunks)).toBe('ok');
    expect(reference.error).toMatchObject({ code: ErrorCode.StreamIncomplete, retryable: false });
  });

  it('treats a stream of only [DONE] as an empty (retryable) response', () => {
    const r = runStream(openai.createStreamTransformer(ctx), [toBytes('data: [DONE]\n\n')]);
    expect(r.error).toMatchObject({ code: ErrorCode.StreamIncomplete, retryable: true });
  });

  it('normalises vendor finish reasons', () => {
    const s = ev('"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"eos"}]') + 'data: [DONE]\n\n';
    const r = runStream(createOpenAiCompatibleAdapter({ id: 'v', envPrefix: 'V', defaultBaseUrl: 'http://x' }).createStreamTransformer(ctx), [toBytes(s)]);
    expect(r.chunks[0].choices[0].finish_reason).toBe('stop');
  });

  it('removes the empty tool_calls lists some vendors put on every delta', () => {
    const s = ev('"choices":[{"index":0,"delta":{"role":"assistant","content":"x","tool_calls":[]},"finish_reason":"stop"}]') + 'data: [DONE]\n\n';
    expect(runStream(openai.createStreamTransformer(ctx), [toBytes(s)]).chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: 'x' });
  });

  it('keeps failing after an error was thrown', () => {
    const t = openai.createStreamTransformer(ctx);
    expect(() => t.push(toBytes('data: {"error":{"message":"x"}}\n\n'))).toThrow();
    expect(() => t.end()).toThrow();
  });
});
