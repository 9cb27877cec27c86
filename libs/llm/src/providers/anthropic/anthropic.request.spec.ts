import { ErrorCode } from '@gw/core';
import type { ChatMessage, ChatRequest } from '../../openai.types';
import type { BuildOptions } from '../../provider';
import { applyReasoningObject } from '../../reasoning-object';
import { anthropicAdapter } from './anthropic.adapter';
import type { AnthropicRequest } from './anthropic.types';

const target = { baseUrl: '', apiKey: 'sk-ant-test', upstreamModel: 'claude-sonnet-4-5' };
const reject: BuildOptions = { stream: false, unsupportedParams: 'reject', maxTokens: 1000 };
const drop: BuildOptions = { ...reject, unsupportedParams: 'drop' };
const req = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'anthropic/claude', messages, ...extra });
const build = (r: ChatRequest, opts: BuildOptions = reject): AnthropicRequest => JSON.parse(anthropicAdapter.buildChatRequest(r, target, opts).body);
const hi: ChatMessage = { role: 'user', content: 'hi' };

describe('Anthropic request: HTTP', () => {
  it('posts to /v1/messages with x-api-key and the pinned version', () => {
    const r = anthropicAdapter.buildChatRequest(req([hi]), target, { ...reject, stream: true });
    expect(r.url).toBe('https://api.anthropic.com/v1/messages');
    expect(r.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', accept: 'text/event-stream' });
    expect(r.headers.authorization).toBeUndefined();
    expect(JSON.parse(r.body).stream).toBe(true);
    expect(r.headers['anthropic-beta']).toBeUndefined();
  });

  it("passes the client's anthropic-beta flags through", () => {
    const r = anthropicAdapter.buildChatRequest(req([hi]), target, { ...reject, anthropicBeta: 'context-1m-2025-08-07,interleaved-thinking-2025-05-14' });
    expect(r.headers['anthropic-beta']).toBe('context-1m-2025-08-07,interleaved-thinking-2025-05-14');
  });

  it.each([
    ['http://127.0.0.1:5/', 'http://127.0.0.1:5/v1/messages'],
    ['http://127.0.0.1:5/v1', 'http://127.0.0.1:5/v1/messages'],
  ])('base %s -> %s', (baseUrl, url) => {
    expect(anthropicAdapter.buildChatRequest(req([hi]), { ...target, baseUrl }, reject).url).toBe(url);
  });
});

describe('Anthropic request: messages', () => {
  it('hoists system and developer messages from any position into system blocks', () => {
    const body = build(req([{ role: 'system', content: 'Be terse.' }, hi, { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] }, { role: 'assistant', content: 'ok' }]));
    expect(body.system).toEqual([
      { type: 'text', text: 'Be terse.' },
      { type: 'text', text: 'Use French.' },
    ]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
    ]);
  });

  it('merges consecutive same-role messages and never sends empty text', () => {
    const body = build(req([{ role: 'user', content: 'a' }, { role: 'user', content: '   ' }, { role: 'user', content: [{ type: 'text', text: '' }, { type: 'text', text: 'b' }] }, { role: 'assistant', content: '' }, { role: 'assistant', content: 'c' }]));
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'c' }] },
    ]);
  });

  it('maps a tool loop: tool_use blocks with parsed input, all results in ONE following user message, results first', () => {
    const body = build(
      req([
        { role: 'user', content: 'Weather in Paris and Lyon?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call.2', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":21}' },
        { role: 'tool', tool_call_id: 'call.2', content: [{ type: 'text', text: '19C' }] },
        { role: 'user', content: 'And tomorrow?' },
      ]),
    );
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Lyon?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '{"temp_c":21}' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '19C' },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
  });

  it('omits empty tool result content', () => {
    const body = build(req([hi, { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 't', content: '' }]));
    expect(body.messages[2]).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't' }] });
  });

  it('rejects tool arguments that are not a JSON object', () => {
    const bad = req([hi, { role: 'assistant', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{oops' } }] }]);
    expect(() => build(bad)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidBody, details: expect.objectContaining({ param: 'messages[1].tool_calls[0].function.arguments' }) }));
  });

  it('maps images: data URLs to base64 sources, http URLs to url sources', () => {
    const body = build(
      req([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
            { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/' } },
          ],
        },
      ]),
    );
    expect(body.messages[0].content).toEqual([
      { type: 'text', text: 'Look' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/' } },
    ]);
  });

  it('maps PDF files to documents and refuses audio and unsupported images', () => {
    const pdf = build(req([{ role: 'user', content: [{ type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } }] }]));
    expect(pdf.messages[0].content).toEqual([{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } }]);
    expect(() => build(req([{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA==', format: 'wav' } }] }]))).toThrow(
      expect.objectContaining({ code: ErrorCode.UnsupportedParameter }),
    );
    expect(() => build(req([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/tiff;base64,AA' } }] }]))).toThrow(
      expect.objectContaining({ code: ErrorCode.UnsupportedParameter }),
    );
  });

  it('replays signed thinking from reasoning_details first, merging stream fragments, dropping unsigned and foreign items', () => {
    const body = build(
      req([
        hi,
        {
          role: 'assistant',
          content: 'Checking.',
          reasoning_details: [
            { type: 'reasoning.text', text: 'User wants ', format: 'anthropic-claude-v1', index: 0 },
            { type: 'reasoning.text', text: 'weather.', format: 'anthropic-claude-v1', index: 0 },
            { type: 'reasoning.text', text: '', signature: 'EqQB', format: 'anthropic-claude-v1', index: 0 },
            { type: 'reasoning.encrypted', data: 'REDACTED', format: 'anthropic-claude-v1', index: 1 },
            { type: 'reasoning.text', text: 'unsigned', index: 2 },
            { type: 'reasoning.encrypted', data: 'gemini-sig', format: 'google-gemini-v1', index: 3 },
          ],
          tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_01', content: '21C' },
      ]),
    );
    expect(body.messages[1].content).toEqual([
      { type: 'thinking', thinking: 'User wants weather.', signature: 'EqQB' },
      { type: 'redacted_thinking', data: 'REDACTED' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
    ]);
  });

  it('starts with a user turn when the history opens with the assistant', () => {
    expect(build(req([{ role: 'assistant', content: 'Hello!' }, hi])).messages[0]).toEqual({ role: 'user', content: [{ type: 'text', text: '.' }] });
  });

  it('requires at least one conversational message', () => {
    expect(() => build(req([{ role: 'system', content: 'x' }]))).toThrow(expect.objectContaining({ code: ErrorCode.InvalidBody }));
  });

  it('keeps cache_control on text parts', () => {
    const body = build(req([{ role: 'system', content: [{ type: 'text', text: 'Big prompt', cache_control: { type: 'ephemeral' } }] }, hi]));
    expect(body.system).toEqual([{ type: 'text', text: 'Big prompt', cache_control: { type: 'ephemeral' } }]);
  });
});

describe('Anthropic request: parameters', () => {
  const tools: ChatRequest['tools'] = [
    { type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
    { type: 'function', function: { name: 'noop' } },
  ];

  it('maps tools, with an empty object schema when parameters are absent', () => {
    expect(build(req([hi], { tools })).tools).toEqual([
      { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      { name: 'noop', input_schema: { type: 'object', properties: {} } },
    ]);
  });

  it.each([
    ['auto', undefined, { type: 'auto' }],
    ['none', undefined, { type: 'none' }],
    ['required', undefined, { type: 'any' }],
    [{ type: 'function', function: { name: 'noop' } }, undefined, { type: 'tool', name: 'noop' }],
    ['auto', false, { type: 'auto', disable_parallel_tool_use: true }],
    [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
    ['required', false, { type: 'any', disable_parallel_tool_use: true }],
    ['none', false, { type: 'none' }],
    [undefined, undefined, undefined],
  ] as const)('tool_choice %j, parallel_tool_calls %s -> %j', (choice, parallel, expected) => {
    const r = req([hi], { tools, ...(choice !== undefined ? { tool_choice: choice } : {}), ...(parallel !== undefined ? { parallel_tool_calls: parallel } : {}) });
    expect(build(r).tool_choice).toEqual(expected);
  });

  it('maps allowed_tools by filtering tools', () => {
    const body = build(req([hi], { tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'noop' } }] } } }));
    expect(body.tools?.map((t) => t.name)).toEqual(['noop']);
    expect(body.tool_choice).toEqual({ type: 'any' });
  });

  it('sends no tool_choice without tools', () => {
    expect(build(req([hi], { tool_choice: 'required' }))).not.toHaveProperty('tool_choice');
  });

  it.each([
    [{ stop: 'END' }, { stop_sequences: ['END'] }],
    [{ stop: ['a', ' ', 'b'] }, { stop_sequences: ['a', 'b'] }],
    [{ temperature: 1.7 }, { temperature: 1 }],
    [{ temperature: 0.2, top_p: 0.9 }, { temperature: 0.2 }],
    [{ top_p: 0.9 }, { top_p: 0.9 }],
    [{ user: 'u-7f3a' }, { metadata: { user_id: 'u-7f3a' } }],
    [{ safety_identifier: 'h1' }, { metadata: { user_id: 'h1' } }],
    [{ service_tier: 'default' }, { service_tier: 'standard_only' }],
    [{ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } } }, { output_config: { format: { type: 'json_schema', schema: { type: 'object' } } } }],
  ] as Array<[Partial<ChatRequest>, Partial<AnthropicRequest>]>)('%j -> %j', (extra, expected) => {
    expect(build(req([hi], extra))).toMatchObject(expected);
  });

  it('requires max_tokens: gateway cap, else the client value, else a default', () => {
    expect(build(req([hi], { max_tokens: 50 })).max_tokens).toBe(1000);
    expect(build(req([hi], { max_completion_tokens: 50 }), { ...reject, maxTokens: undefined }).max_tokens).toBe(50);
    expect(build(req([hi]), { ...reject, maxTokens: undefined }).max_tokens).toBe(4096);
  });

  it.each([
    ['low', 1024],
    ['medium', 2048],
    ['high', 4096],
  ] as const)('reasoning_effort %s -> thinking budget %i below max_tokens, sampling dropped', (effort, budget) => {
    const opts = { ...drop, maxTokens: 1000 };
    const r = anthropicAdapter.buildChatRequest(req([hi], { reasoning_effort: effort, temperature: 0.5, top_p: 0.5 }), target, opts);
    const body: AnthropicRequest = JSON.parse(r.body);
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: budget });
    expect(body.max_tokens).toBeGreaterThan(budget);
    expect(body.max_tokens).toBe(1000 + budget);
    expect(r.maxOutputTokens).toBe(body.max_tokens);
    expect(body).not.toHaveProperty('temperature');
    expect(body).not.toHaveProperty('top_p');
  });

  it('sends an effort asked without thinking as output_config.effort alone, thinking off, to 4.6+ only (forced tools and temperature stay legal)', () => {
    const tools = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object' } } }];
    const ask = req([hi], { temperature: 0.2, tools, tool_choice: { type: 'function', function: { name: 'f' } } });
    const body = JSON.parse(anthropicAdapter.buildChatRequest(ask, { ...target, upstreamModel: 'claude-opus-4-6' }, { ...reject, outputEffort: 'low' }).body) as AnthropicRequest;
    expect(body).not.toHaveProperty('thinking');
    expect(body.output_config).toEqual({ effort: 'low' });
    expect(body.temperature).toBe(0.2);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'f' });
    expect(body.max_tokens).toBe(1000);
    // An older generation takes no effort: nothing is sent rather than a 400.
    const older = build(ask, { ...reject, outputEffort: 'low' });
    expect([older.output_config, older.thinking]).toEqual([undefined, undefined]);
  });

  it('leaves thinking off in a tool loop whose last assistant turn lost its thinking block (Anthropic would answer 400)', () => {
    const call = { id: 'toolu_01', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    const loop = (assistant: ChatMessage) => req([hi, assistant, { role: 'tool', tool_call_id: 'toolu_01', content: '21C' }], { reasoning_effort: 'high' });
    const lost = build(loop({ role: 'assistant', content: null, tool_calls: [call] }));
    expect(lost).not.toHaveProperty('thinking');
    expect(lost.max_tokens).toBe(1000);
    const kept = build(loop({ role: 'assistant', content: null, tool_calls: [call], reasoning_details: [{ type: 'reasoning.text', text: 'Need weather.', signature: 'EqQB', format: 'anthropic-claude-v1', index: 0 }] }));
    expect(kept.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
    expect(kept.messages[1].content[0]).toMatchObject({ type: 'thinking' });
    // An earlier turn without thinking does not matter once the loop is over.
    const after = build(req([hi, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: 'toolu_01', content: '21C' }, { role: 'assistant', content: 'It is 21C.' }, hi], { reasoning_effort: 'high' }));
    expect(after.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
  });

  it('keeps max_tokens when it already exceeds the budget, and sends no thinking for effort none', () => {
    expect(build(req([hi], { reasoning_effort: 'low' }), { ...reject, maxTokens: 8000 }).max_tokens).toBe(8000);
    expect(build(req([hi], { reasoning_effort: 'none' }))).not.toHaveProperty('thinking');
  });

  const onModel = (upstreamModel: string, r: ChatRequest, opts: BuildOptions = reject): AnthropicRequest =>
    JSON.parse(anthropicAdapter.buildChatRequest(r, { ...target, upstreamModel }, opts).body);

  it.each([
    ['claude-sonnet-4-6', 'high', 'high'],
    ['claude-opus-4-8', 'minimal', 'low'],
    ['claude-sonnet-5', 'xhigh', 'xhigh'],
    ['claude-fable-5-2', 'medium', 'medium'],
  ] as const)('%s thinks adaptively: reasoning_effort %s -> output_config.effort %s, no budget, max_tokens kept', (model, effort, out) => {
    const body = onModel(model, req([hi], { reasoning_effort: effort }));
    expect(body.thinking).toEqual({ type: 'adaptive' });
    expect(body.output_config).toEqual({ effort: out });
    expect(body.max_tokens).toBe(1000);
  });

  it('keeps budgets for 4.5 and older ids, dated ids included, and for ids that name no generation', () => {
    for (const model of ['claude-sonnet-4-5-20250929', 'claude-3-7-sonnet-latest', 'claude-sonnet-4-20250514', 'my-claude-deployment']) {
      expect(onModel(model, req([hi], { reasoning_effort: 'high' })).thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
    }
  });

  it('puts the effort and a JSON schema into one output_config', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const body = onModel('claude-opus-4-6', req([hi], { reasoning_effort: 'low', response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }));
    expect(body.output_config).toEqual({ effort: 'low', format: { type: 'json_schema', schema } });
  });

  it('sends no sampling parameters to Opus 4.7+ and Claude 5: refused (reject) unless they ask for the default, dropped (drop)', () => {
    for (const model of ['claude-opus-4-7', 'claude-opus-4-8', 'claude-sonnet-5']) {
      expect(() => onModel(model, req([hi], { temperature: 0.3 }))).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedParameter, details: expect.objectContaining({ param: 'temperature' }) }));
      expect(() => onModel(model, req([hi], { top_p: 0.9 }))).toThrow(expect.objectContaining({ details: expect.objectContaining({ param: 'top_p' }) }));
      const neutral = onModel(model, req([hi], { temperature: 1, top_p: 1 }));
      expect(neutral).not.toHaveProperty('temperature');
      expect(neutral).not.toHaveProperty('top_p');
      expect(onModel(model, req([hi], { temperature: 0.3, top_p: 0.5 }), drop)).not.toHaveProperty('temperature');
    }
    // 4.6 still takes a temperature.
    expect(onModel('claude-sonnet-4-6', req([hi], { temperature: 0.3 })).temperature).toBe(0.3);
  });

  it('refuses a forced tool with thinking (reject) or downgrades it to auto (drop)', () => {
    const r = req([hi], { tools, tool_choice: 'required', reasoning_effort: 'low' });
    expect(() => build(r)).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedParameter, details: expect.objectContaining({ param: 'tool_choice' }) }));
    expect(build(r, drop).tool_choice).toEqual({ type: 'auto' });
  });

  it.each([
    ['n', { n: 2 }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 2 }],
    ['logit_bias', { logit_bias: { '1': 5 } }],
    ['presence_penalty', { presence_penalty: 0.5 }],
    ['frequency_penalty', { frequency_penalty: 0.5 }],
    ['seed', { seed: 1 }],
    ['response_format', { response_format: { type: 'json_object' } }],
    ['tools', { tools: [{ type: 'custom', custom: { name: 'c' } }] }],
    ['service_tier', { service_tier: 'flex' }],
  ] as Array<[string, Partial<ChatRequest>]>)('%s is unsupported: 400 under reject, omitted under drop', (param, extra) => {
    expect(() => build(req([hi], extra))).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedParameter, details: expect.objectContaining({ param }) }));
    const body = build(req([hi], extra), drop) as unknown as Record<string, unknown>;
    for (const k of ['n', 'logprobs', 'top_logprobs', 'logit_bias', 'presence_penalty', 'frequency_penalty', 'seed', 'response_format', 'output_config', 'tools', 'service_tier']) {
      expect(body).not.toHaveProperty(k);
    }
  });

  it('accepts neutral values of unsupported parameters (n: 1, logprobs: false)', () => {
    expect(() => build(req([hi], { n: 1, logprobs: false, presence_penalty: 0 }))).not.toThrow();
  });

  it('never forwards gateway extras or OpenAI-only fields', () => {
    const body = build(req([hi], { models: ['a/b'], provider: { order: ['x'] }, store: true, stream_options: { include_usage: true }, prompt_cache_key: 'k' })) as unknown as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['max_tokens', 'messages', 'model']);
  });
});

describe("Anthropic request: OpenRouter's reasoning object", () => {
  const claude = (upstreamModel: string, r: ChatRequest, opts: BuildOptions = reject): AnthropicRequest =>
    JSON.parse(anthropicAdapter.buildChatRequest(applyReasoningObject(r), { ...target, upstreamModel }, opts).body);

  it('thinks with the effort of reasoning.effort; enabled false turns thinking off', () => {
    expect(claude('claude-sonnet-4-5', req([hi], { reasoning: { effort: 'high' } }))).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 4096 } });
    expect(claude('claude-sonnet-4-6', req([hi], { reasoning: { effort: 'high' } }))).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    expect(claude('claude-sonnet-4-5', req([hi], { reasoning: { enabled: false, effort: 'high' } }))).not.toHaveProperty('thinking');
  });

  it('takes reasoning.max_tokens as the thinking budget before 4.6 (at least 1024), as an effort bucket from 4.6', () => {
    const budget = claude('claude-sonnet-4-5', req([hi], { reasoning: { max_tokens: 3000 } }));
    expect(budget.thinking).toEqual({ type: 'enabled', budget_tokens: 3000 });
    expect(budget.max_tokens).toBe(4000);
    expect(claude('claude-sonnet-4-5', req([hi], { reasoning: { max_tokens: 500 } })).thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(claude('claude-opus-4-6', req([hi], { reasoning: { max_tokens: 20000 } }))).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    // A budget at or over the output cap (the model's maximum when the client set none) is held under it.
    const over = claude('claude-sonnet-4-5', req([hi], { reasoning: { max_tokens: 64000 } }), { ...reject, maxTokens: 64000 });
    expect([over.max_tokens, over.thinking]).toEqual([64000, { type: 'enabled', budget_tokens: 63999 }]);
  });

  it('serves thinking given as permission without it when the request asks what Anthropic cannot combine with it', () => {
    for (const extra of [{ temperature: 0.7 }, { top_k: 5 }, { tool_choice: 'required' as const, tools: [{ type: 'function' as const, function: { name: 'f' } }] }]) {
      const body = claude('claude-sonnet-4-5', req([hi], { reasoning: { effort: 'high' }, ...extra }));
      expect(body).not.toHaveProperty('thinking');
    }
  });

  it('refuses (reject) or drops (drop) the open-model sampling parameters', () => {
    expect(() => build(req([hi], { min_p: 0.1 }))).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedParameter, details: expect.objectContaining({ param: 'min_p' }) }));
    expect(build(req([hi], { min_p: 0.1, top_a: 0.2, repetition_penalty: 1.1 }), drop)).not.toHaveProperty('min_p');
  });
});

describe('Anthropic request: what /v1/messages maps from Anthropic fields', () => {
  it('passes top_k; with thinking given as permission, serves it without thinking; with a demanded effort, refuses it (reject) or drops it (drop)', () => {
    expect(build(req([hi], { top_k: 40, temperature: 0.5 }))).toMatchObject({ top_k: 40, temperature: 0.5 });
    const thinking = req([hi], { top_k: 40, reasoning_effort: 'low', client_names: { reasoning_effort: 'thinking' } });
    // Thinking given as permission yields to the sampling the request asks for (Anthropic refuses both together).
    expect(build(thinking)).toMatchObject({ top_k: 40 });
    expect(build(thinking)).not.toHaveProperty('thinking');
    // Asked as a demand (an OpenAI client's own reasoning_effort), the conflict is refused by name.
    expect(() => build(req([hi], { top_k: 40, reasoning_effort: 'low' }))).toThrow(expect.objectContaining({ code: ErrorCode.UnsupportedParameter, details: expect.objectContaining({ param: 'top_k' }) }));
    expect(build(req([hi], { top_k: 40, reasoning_effort: 'low' }), drop)).not.toHaveProperty('top_k');
    expect(() => anthropicAdapter.buildChatRequest(req([hi], { top_k: 40 }), { ...target, upstreamModel: 'claude-opus-4-7' }, reject)).toThrow(expect.objectContaining({ details: expect.objectContaining({ param: 'top_k' }) }));
  });

  it('keeps the error flag of a failed tool result', () => {
    const body = build(
      req([
        hi,
        { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 't', content: 'denied', is_error: true },
      ]),
    );
    expect(body.messages[2]).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'denied', is_error: true }] });
    expect(body).not.toHaveProperty('client_names');
  });
});

describe('Anthropic request: cache_control placement', () => {
  it('lifts a hint on tool output onto the tool_result block (never inside its content) and keeps assistant text hints', () => {
    const body = build(
      req([
        hi,
        { role: 'assistant', content: [{ type: 'text', text: 'Calling.', cache_control: { type: 'ephemeral' } }], tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
      ]),
    );
    expect(body.messages[1].content[0]).toEqual({ type: 'text', text: 'Calling.', cache_control: { type: 'ephemeral' } });
    expect(body.messages[2].content[0]).toEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_1',
      content: [
        { type: 'text', text: 'one' },
        { type: 'text', text: 'two' },
      ],
      cache_control: { type: 'ephemeral', ttl: '1h' },
    });
  });
});
