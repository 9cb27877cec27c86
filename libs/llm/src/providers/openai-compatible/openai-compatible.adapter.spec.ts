import { ErrorCode } from '@gw/core';
import type { ChatMessage, ChatRequest } from '../../openai.types';
import type { BuildOptions, ProviderAdapter, ResponseContext } from '../../provider';
import { azureOpenAiAdapter } from '../azure';
import { createOpenAiCompatibleAdapter } from './openai-compatible.adapter';
import { OPENAI_COMPATIBLE_ADAPTERS, OPENAI_COMPATIBLE_SPECS } from './openai-compatible.vendors';

const adapter = (id: string): ProviderAdapter => {
  const a = OPENAI_COMPATIBLE_ADAPTERS.find((x) => x.id === id);
  if (!a) throw new Error(id);
  return a;
};
const target = { baseUrl: '', apiKey: 'sk-test-key', upstreamModel: 'upstream-model-1' };
const reject: BuildOptions = { stream: false, unsupportedParams: 'reject' };
const drop: BuildOptions = { stream: false, unsupportedParams: 'drop' };
const base: ChatRequest = { model: 'x/public', messages: [{ role: 'user', content: 'hi' }] };
const bodyOf = (a: ProviderAdapter, req: ChatRequest, opts: BuildOptions): Record<string, unknown> => JSON.parse(a.buildChatRequest(req, target, opts).body);
const ctx: ResponseContext = { id: 'gen-1', model: 'openai/gpt-4o', created: 1_700_000_000 };

describe('OpenAI-compatible vendors', () => {
  it('has one adapter per spec with distinct ids', () => {
    expect(OPENAI_COMPATIBLE_ADAPTERS.map((a) => a.id)).toEqual([
      'openai',
      'deepseek',
      'mistral',
      'groq',
      'together',
      'fireworks',
      'xai',
      'qwen',
      'perplexity',
      'moonshot',
      'openrouter',
    ]);
  });

  it.each(OPENAI_COMPATIBLE_SPECS.map((s) => [s.id, s.defaultBaseUrl] as const))('%s posts to <base>/chat/completions with bearer auth', (id, url) => {
    const req = adapter(id).buildChatRequest(base, target, reject);
    expect(req.url).toBe(`${url}/chat/completions`);
    expect(req.headers.authorization).toBe('Bearer sk-test-key');
    expect(req.headers['content-type']).toBe('application/json');
  });

  it('uses the configured base URL when given (trailing slash tolerated)', () => {
    expect(adapter('openai').buildChatRequest(base, { ...target, baseUrl: 'http://127.0.0.1:9/v1/' }, reject).url).toBe('http://127.0.0.1:9/v1/chat/completions');
  });
});

describe('buildChatRequest', () => {
  it('strips gateway extras, sets the upstream model, keeps OpenAI fields', () => {
    const body = bodyOf(
      adapter('openai'),
      { ...base, models: ['a/b', 'c/d'], provider: { order: ['x'] }, temperature: 0.3, top_p: 0.9, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'auto', user: 'u1' },
      reject,
    );
    expect(body).toEqual({
      model: 'upstream-model-1',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.3,
      top_p: 0.9,
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: 'auto',
      user: 'u1',
    });
  });

  it('forces stream_options.include_usage upstream when streaming, whatever the client asked', () => {
    const body = bodyOf(adapter('openai'), { ...base, stream: true, stream_options: { include_usage: false } }, { ...reject, stream: true });
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(adapter('openai').buildChatRequest(base, target, { ...reject, stream: true }).headers.accept).toBe('text/event-stream');
  });

  it('sends neither stream nor stream_options when not streaming', () => {
    const body = bodyOf(adapter('openai'), { ...base, stream: true, stream_options: { include_usage: true } }, reject);
    expect(body).not.toHaveProperty('stream');
    expect(body).not.toHaveProperty('stream_options');
  });

  it('omits stream_options for vendors that send usage unasked and reject the field', () => {
    const body = bodyOf(adapter('mistral'), base, { ...reject, stream: true });
    expect(body.stream).toBe(true);
    expect(body).not.toHaveProperty('stream_options');
  });

  it.each([
    ['openai', { max_tokens: 100 }, undefined, { max_completion_tokens: 100 }],
    ['openai', { max_completion_tokens: 100 }, 50, { max_completion_tokens: 50 }],
    ['deepseek', { max_completion_tokens: 100 }, undefined, { max_tokens: 100 }],
    ['mistral', {}, 64, { max_tokens: 64 }],
    ['groq', { max_tokens: 7, max_completion_tokens: 9 }, undefined, { max_tokens: 9 }],
  ])('%s: client %j with gateway cap %s -> %j', (id, fields, cap, expected) => {
    const body = bodyOf(adapter(id), { ...base, ...fields }, { ...reject, maxTokens: cap });
    const { max_tokens, max_completion_tokens } = body;
    expect(Object.fromEntries(Object.entries({ max_tokens, max_completion_tokens }).filter(([, v]) => v !== undefined))).toEqual(expected);
  });

  it('reports the output cap it sent', () => {
    expect(adapter('openai').buildChatRequest({ ...base, max_tokens: 33 }, target, reject).maxOutputTokens).toBe(33);
    expect(adapter('openai').buildChatRequest(base, target, reject).maxOutputTokens).toBeUndefined();
  });

  it.each([
    ['deepseek', 'n', { n: 2 }],
    ['deepseek', 'logit_bias', { logit_bias: { '50256': -100 } }],
    ['groq', 'logprobs', { logprobs: true }],
    ['mistral', 'top_logprobs', { top_logprobs: 3 }],
    ['perplexity', 'tools', { tools: [{ type: 'function', function: { name: 'f' } }] }],
    ['together', 'audio', { audio: { voice: 'alloy', format: 'mp3' } }],
  ] as const)('%s rejects %s with a 400 naming the parameter, or drops it', (id, param, extra) => {
    const req = { ...base, ...extra } as ChatRequest;
    expect(() => adapter(id).buildChatRequest(req, target, reject)).toThrow(
      expect.objectContaining({ code: ErrorCode.UnsupportedParameter, details: expect.objectContaining({ param, retryable: false }) }),
    );
    expect(bodyOf(adapter(id), req, drop)).not.toHaveProperty(param);
  });

  it('forwards everything to OpenAI itself', () => {
    const req = { ...base, n: 2, logprobs: true, top_logprobs: 2, logit_bias: { '1': 1 }, audio: { voice: 'alloy' }, modalities: ['text', 'audio'] } as ChatRequest;
    expect(bodyOf(adapter('openai'), req, reject)).toMatchObject({ n: 2, logprobs: true, top_logprobs: 2, modalities: ['text', 'audio'] });
  });

  it('drops neutral values of unsupported parameters silently even under reject', () => {
    const body = bodyOf(adapter('groq'), { ...base, n: 1, logprobs: false, logit_bias: {} }, reject);
    expect(body).not.toHaveProperty('n');
    expect(body).not.toHaveProperty('logprobs');
    expect(body).not.toHaveProperty('logit_bias');
  });

  it('always drops hints the vendor lacks', () => {
    const body = bodyOf(adapter('mistral'), { ...base, user: 'u', store: true, metadata: { a: 'b' }, prompt_cache_key: 'k' }, reject);
    for (const f of ['user', 'store', 'metadata', 'prompt_cache_key']) expect(body).not.toHaveProperty(f);
  });

  it('renames vendor-spelled parameters', () => {
    const body = bodyOf(adapter('mistral'), { ...base, seed: 7 }, reject);
    expect(body.random_seed).toBe(7);
    expect(body).not.toHaveProperty('seed');
  });

  it('gives DeepSeek and Moonshot their reasoning back as reasoning_content in the current tool loop only', () => {
    const call = { id: 'c1', type: 'function' as const, function: { name: 'f', arguments: '{}' } };
    const req: ChatRequest = {
      ...base,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: '', reasoning: 'old turn', tool_calls: [call] },
        { role: 'tool', tool_call_id: 'c1', content: '1' },
        { role: 'assistant', content: 'a', reasoning: 'answered' },
        { role: 'user', content: 'q2' },
        { role: 'assistant', content: '', reasoning: 'think', reasoning_details: [{ type: 'reasoning.text', text: 'think' }], tool_calls: [call] },
        { role: 'tool', tool_call_id: 'c1', content: '2' },
      ],
    };
    for (const id of ['deepseek', 'moonshot']) {
      const sent = bodyOf(adapter(id), req, reject).messages as Record<string, unknown>[];
      expect(sent[5]).toEqual({ role: 'assistant', content: '', reasoning_content: 'think', tool_calls: [call] });
      expect(sent[1]).not.toHaveProperty('reasoning_content');
      expect(sent[3]).toEqual({ role: 'assistant', content: 'a' });
    }
    // Vendors that do not ask for it get no reasoning field at all.
    expect((bodyOf(adapter('qwen'), req, reject).messages as Record<string, unknown>[])[5]).not.toHaveProperty('reasoning_content');
  });

  it('strips gateway reasoning fields from assistant messages unless the vendor accepts them', () => {
    const req: ChatRequest = {
      ...base,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', reasoning: 'r', reasoning_details: [{ type: 'reasoning.text', text: 'r', signature: 's' }] },
        { role: 'user', content: 'q2' },
      ],
    };
    expect((bodyOf(adapter('deepseek'), req, reject).messages as unknown[])[1]).toEqual({ role: 'assistant', content: 'a' });
    expect((bodyOf(adapter('openrouter'), req, reject).messages as unknown[])[1]).toHaveProperty('reasoning_details');
    expect(req.messages[1]).toHaveProperty('reasoning');
  });

  it('supports a custom auth header, extra headers and path through the spec alone', () => {
    const a = createOpenAiCompatibleAdapter({
      id: 'azure-like',
      envPrefix: 'AZ',
      defaultBaseUrl: 'https://x.example/openai',
      chatPath: 'deployments/d/chat/completions?api-version=2024-10-21',
      auth: { kind: 'header', name: 'api-key' },
      extraHeaders: { 'x-title': 'gw' },
    });
    const req = a.buildChatRequest(base, target, reject);
    expect(req.url).toBe('https://x.example/openai/deployments/d/chat/completions?api-version=2024-10-21');
    expect(req.headers['api-key']).toBe('sk-test-key');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.headers['x-title']).toBe('gw');
  });
});

describe('buildChatRequest: what /v1/messages maps from Anthropic fields', () => {
  const thinking: ChatRequest = { ...base, reasoning_effort: 'medium', client_names: { max_completion_tokens: 'max_tokens', reasoning_effort: 'thinking' } };

  it('drops an effort that stands for Anthropic thinking on a vendor without reasoning control, whatever the policy; an OpenAI client\'s own effort still follows it', () => {
    const noControl = createOpenAiCompatibleAdapter({ id: 'plain', envPrefix: 'PLAIN', defaultBaseUrl: 'https://plain.example/v1', unsupported: ['reasoning_effort'] });
    const body = bodyOf(noControl, thinking, reject);
    expect(body).not.toHaveProperty('reasoning_effort');
    expect(body).not.toHaveProperty('client_names');
    expect(() => bodyOf(noControl, { ...base, reasoning_effort: 'medium' }, reject)).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedParameter, details: expect.objectContaining({ param: 'reasoning_effort' }) }));
    expect(bodyOf(adapter('openai'), thinking, reject)).toMatchObject({ reasoning_effort: 'medium' });
  });

  it('gives DeepSeek and Mistral their reasoning_effort; DeepSeek, which thinks by default, is told not to with thinking disabled', () => {
    expect(bodyOf(adapter('deepseek'), { ...base, reasoning_effort: 'high' }, reject)).toMatchObject({ reasoning_effort: 'high' });
    expect(bodyOf(adapter('mistral'), { ...base, reasoning_effort: 'high' }, reject)).toMatchObject({ reasoning_effort: 'high' });
    const off = bodyOf(adapter('deepseek'), { ...base, reasoning_effort: 'none' }, reject);
    expect(off).toMatchObject({ thinking: { type: 'disabled' } });
    expect(off).not.toHaveProperty('reasoning_effort');
    expect(bodyOf(adapter('openai'), { ...base, reasoning_effort: 'none' }, reject)).not.toHaveProperty('thinking');
  });

  it('refuses top_k naming it on vendors without it (reject), drops it (drop), and passes it to those that take it', () => {
    for (const id of ['openai', 'deepseek', 'mistral', 'groq', 'xai', 'moonshot']) {
      expect(() => bodyOf(adapter(id), { ...base, top_k: 40 }, reject)).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedParameter, details: expect.objectContaining({ param: 'top_k' }) }));
      expect(bodyOf(adapter(id), { ...base, top_k: 40 }, drop)).not.toHaveProperty('top_k');
    }
    for (const id of ['together', 'fireworks', 'qwen', 'perplexity', 'openrouter']) expect(bodyOf(adapter(id), { ...base, top_k: 40 }, reject)).toMatchObject({ top_k: 40 });
  });

  it("holds stop to the vendor's limit: refused naming the client's field (reject), the first ones kept (drop)", () => {
    const five = ['a', 'b', 'c', 'd', 'e'];
    const fromMessages: ChatRequest = { ...base, stop: five, client_names: { stop: 'stop_sequences' } };
    expect(() => bodyOf(adapter('openai'), fromMessages, reject)).toThrow(
      expect.objectContaining({ code: ErrorCode.UnsupportedParameter, message: expect.stringContaining("'stop_sequences'"), details: expect.objectContaining({ param: 'stop_sequences' }) }),
    );
    expect(() => bodyOf(adapter('openai'), { ...base, stop: five }, reject)).toThrow(expect.objectContaining({ details: expect.objectContaining({ param: 'stop' }) }));
    expect(bodyOf(adapter('openai'), fromMessages, drop).stop).toEqual(['a', 'b', 'c', 'd']);
    expect(bodyOf(adapter('openai'), { ...base, stop: ['a', 'b', 'c', 'd'] }, reject).stop).toEqual(['a', 'b', 'c', 'd']);
    expect(bodyOf(adapter('deepseek'), fromMessages, reject).stop).toEqual(five);
  });

  it('says a failed tool result in its text (OpenAI has no error flag) and never sends the flag', () => {
    const messages: ChatRequest['messages'] = [
      { role: 'user', content: 'run it' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'denied', is_error: true },
      { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: 'boom' }], is_error: true },
      { role: 'tool', tool_call_id: 'c3', content: 'fine', is_error: false },
    ];
    expect(bodyOf(adapter('openai'), { ...base, messages }, reject).messages).toEqual([
      messages[0],
      messages[1],
      { role: 'tool', tool_call_id: 'c1', content: 'Error: denied' },
      { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: 'Error: boom' }] },
      { role: 'tool', tool_call_id: 'c3', content: 'fine' },
    ]);
  });
});

describe('parseChatResponse', () => {
  const upstream = () => ({
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 1763900000,
    model: 'gpt-4o-2024-08-06',
    provider: 'SecretUpstream',
    choices: [
      {
        index: 0,
        finish_reason: 'tool_calls',
        logprobs: null,
        message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      },
    ],
    usage: {
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 192, audio_tokens: 0 },
      cost: 0.01,
    },
    service_tier: 'default',
    system_fingerprint: 'fp_x',
  });

  it('rewrites id/model/created, keeps the choices, normalises usage and drops unknown fields', () => {
    const { completion, usage } = adapter('openai').parseChatResponse(upstream(), ctx);
    expect(completion).toEqual({
      id: 'gen-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'openai/gpt-4o',
      choices: upstream().choices,
      usage: {
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920 },
        completion_tokens_details: { reasoning_tokens: 192 },
      },
      service_tier: 'default',
      system_fingerprint: 'fp_x',
    });
    expect(usage).toEqual({ promptTokens: 2006, cachedTokens: 1920, cacheWriteTokens: 0, completionTokens: 300, reasoningTokens: 192 });
  });

  it('returns no usage when the upstream reported none', () => {
    const body = upstream() as Record<string, unknown>;
    delete body.usage;
    const parsed = adapter('openai').parseChatResponse(body, ctx);
    expect(parsed.usage).toBeUndefined();
    expect(parsed.completion).not.toHaveProperty('usage');
  });

  it('renames the vendor reasoning field and applies the vendor usage rule', () => {
    const body = upstream();
    body.choices[0].message = { role: 'assistant', content: 'ok', refusal: null, reasoning_content: 'thought' } as never;
    body.usage = { prompt_tokens: 10, completion_tokens: 2, total_tokens: 40, completion_tokens_details: { reasoning_tokens: 28 } } as never;
    const { completion, usage } = adapter('xai').parseChatResponse(body, ctx);
    expect(completion.choices[0].message).toEqual({ role: 'assistant', content: 'ok', refusal: null, reasoning: 'thought' });
    expect(usage).toMatchObject({ completionTokens: 30, reasoningTokens: 28 });
    expect(completion.usage?.completion_tokens).toBe(30);
  });

  it("flattens Mistral's content chunks: thinking becomes reasoning, text the content string; Fireworks' reasoning_content is renamed", () => {
    const body = upstream();
    body.choices[0].message = { role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Let me ' }, { type: 'text', text: 'see.' }] }, { type: 'text', text: 'Four.' }] } as never;
    expect(adapter('mistral').parseChatResponse(body, ctx).completion.choices[0].message).toEqual({ role: 'assistant', content: 'Four.', reasoning: 'Let me see.' });
    const fw = upstream();
    fw.choices[0].message = { role: 'assistant', content: 'ok', reasoning_content: 'thought' } as never;
    expect(adapter('fireworks').parseChatResponse(fw, ctx).completion.choices[0].message).toEqual({ role: 'assistant', content: 'ok', reasoning: 'thought' });
  });

  it.each([
    ['not an object', 'oops'],
    ['no choices', { id: 'x', choices: [] }],
    ['choice without message', { choices: [{ index: 0 }] }],
  ])('rejects an unusable body (%s) as a retryable UpstreamBadResponse', (_n, body) => {
    expect(() => adapter('openai').parseChatResponse(body, ctx)).toThrow(
      expect.objectContaining({ code: ErrorCode.UpstreamBadResponse, details: expect.objectContaining({ retryable: true }) }),
    );
  });

  it('maps a choice that finished with "error" (no error object) as a retryable upstream error, never an answer', () => {
    const body = { ...upstream(), choices: [{ index: 0, finish_reason: 'error', message: { role: 'assistant', content: 'Partial' } }] };
    expect(() => adapter('openrouter').parseChatResponse(body, ctx)).toThrow(
      expect.objectContaining({ code: ErrorCode.UpstreamError, details: expect.objectContaining({ retryable: true }) }),
    );
  });

  it('maps a 200 body carrying an error', () => {
    expect(() => adapter('openrouter').parseChatResponse({ error: { message: 'No endpoints', code: 503 } }, ctx)).toThrow(
      expect.objectContaining({ code: ErrorCode.UpstreamUnavailable }),
    );
  });
});

describe('mapError', () => {
  it.each([
    [429, { 'retry-after': '20' }, ErrorCode.UpstreamRateLimited, true, 20],
    [500, {}, ErrorCode.UpstreamError, true, undefined],
    [503, {}, ErrorCode.UpstreamUnavailable, true, undefined],
    [408, {}, ErrorCode.UpstreamTimeout, true, undefined],
    [400, {}, ErrorCode.InvalidBody, false, undefined],
    [404, {}, ErrorCode.NotFound, false, undefined],
    [422, {}, ErrorCode.InvalidBody, false, undefined],
    [401, {}, ErrorCode.UpstreamError, false, undefined],
    [403, {}, ErrorCode.UpstreamError, false, undefined],
  ])('%i -> %s', (status, headers, code, retryable, retryAfter) => {
    const e = adapter('deepseek').mapError(status, '{"error":{"message":"upstream says no","type":"x"}}', headers);
    expect(e.code).toBe(code);
    expect(e.details.retryable).toBe(retryable);
    expect(e.details.retryAfterSeconds).toBe(retryAfter);
    if (status === 400) expect(e.message).toBe('upstream says no');
  });
});

describe('buildChatRequest: OpenRouter request extensions', () => {
  // What OpenRouter clients send (the OpenAI SDK with extras): OpenAI-family providers answer a 400
  // ("Unrecognized request argument supplied") to any of these, which ends the attempts.
  const extras = { usage: { include: true }, reasoning: { effort: 'high' }, transforms: ['middle-out'], route: 'fallback', plugins: [{ id: 'web' }] } as Partial<ChatRequest>;
  const routerFields = ['usage', 'reasoning', 'transforms', 'route', 'plugins'];

  it.each(OPENAI_COMPATIBLE_SPECS.filter((s) => s.id !== 'openrouter').map((s) => [s.id]))('%s is sent none of them', (id) => {
    const body = bodyOf(adapter(id), { ...base, ...extras } as ChatRequest, drop);
    for (const f of routerFields) expect(body).not.toHaveProperty(f);
  });

  it('Azure OpenAI is sent none of them either', () => {
    const body = JSON.parse(azureOpenAiAdapter.buildChatRequest({ ...base, ...extras } as ChatRequest, { ...target, baseUrl: 'https://r.openai.azure.com' }, drop).body);
    for (const f of routerFields) expect(body).not.toHaveProperty(f);
  });

  it('OpenRouter itself gets the reasoning object and transforms as sent, not the effort read from the object, plugins, usage or route', () => {
    const req = { ...base, ...extras, reasoning_effort: 'high', client_names: { reasoning_effort: 'reasoning.effort' } } as ChatRequest;
    const body = bodyOf(adapter('openrouter'), req, reject);
    expect(body).toMatchObject({ reasoning: { effort: 'high' }, transforms: ['middle-out'] });
    for (const f of ['usage', 'route', 'plugins', 'reasoning_effort', 'client_names']) expect(body).not.toHaveProperty(f);
    // A client's own reasoning_effort is its own, sent as it came.
    expect(bodyOf(adapter('openrouter'), { ...base, reasoning_effort: 'low' }, reject).reasoning_effort).toBe('low');
  });

  it.each([
    ['openai', [], ['min_p', 'top_a', 'repetition_penalty']],
    ['deepseek', [], ['min_p', 'top_a', 'repetition_penalty']],
    ['together', ['min_p', 'repetition_penalty'], ['top_a']],
    ['fireworks', ['repetition_penalty'], ['min_p', 'top_a']],
    ['qwen', ['repetition_penalty'], ['min_p', 'top_a']],
    ['perplexity', [], ['min_p', 'top_a', 'repetition_penalty']],
    ['openrouter', ['min_p', 'top_a', 'repetition_penalty'], []],
  ] as const)('%s takes the sampling parameters %j, and refuses (reject) or drops (drop) %j', (id, taken, refused) => {
    const sampling = { min_p: 0.1, top_a: 0.2, repetition_penalty: 1.1 } as const;
    const sent = bodyOf(adapter(id), { ...base, ...sampling }, drop);
    for (const p of taken) expect(sent[p]).toBe(sampling[p]);
    for (const p of refused) {
      expect(sent).not.toHaveProperty(p);
      expect(() => adapter(id).buildChatRequest({ ...base, [p]: sampling[p] }, target, reject)).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedParameter, details: expect.objectContaining({ param: p }) }));
    }
  });

  it('drops the default values of those parameters silently, even under reject', () => {
    const body = bodyOf(adapter('openai'), { ...base, min_p: 0, top_a: 0, repetition_penalty: 1 }, reject);
    for (const p of ['min_p', 'top_a', 'repetition_penalty']) expect(body).not.toHaveProperty(p);
  });
});

describe('buildChatRequest: the developer role', () => {
  const req: ChatRequest = { ...base, messages: [{ role: 'developer', content: 'be brief' }, { role: 'user', content: 'hi' }] };
  const withoutRole = ['deepseek', 'mistral', 'groq', 'together', 'fireworks', 'xai', 'qwen', 'perplexity', 'moonshot'];

  it.each(withoutRole.map((id) => [id]))('%s, which has no developer role, gets it as system', (id) => {
    expect(bodyOf(adapter(id), req, reject).messages).toEqual([{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }]);
    expect(req.messages[0].role).toBe('developer');
  });

  it.each(['openai', 'openrouter'].map((id) => [id]))('%s gets it as sent', (id) => {
    expect((bodyOf(adapter(id), req, reject).messages as ChatMessage[])[0]).toEqual({ role: 'developer', content: 'be brief' });
  });
});

describe('buildChatRequest: message names', () => {
  const req: ChatRequest = { ...base, messages: [{ role: 'user', content: 'hi', name: 'alice' }] };

  it('leaves a message name out for Groq, which answers 400 to it, and keeps it for the others', () => {
    expect(bodyOf(adapter('groq'), req, reject).messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(bodyOf(adapter('openai'), req, reject).messages).toEqual([{ role: 'user', content: 'hi', name: 'alice' }]);
    expect(req.messages[0]).toHaveProperty('name', 'alice');
  });
});
