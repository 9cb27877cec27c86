import { DomainError, ErrorCode } from '@gw/core';
import { effortForBudget } from '../reasoning-object';
import { anthropicCountTokensRequest, anthropicToChatRequest, effortWithoutThinking } from './anthropic-inbound.request';
import { wrapForeignReasoning, wrapReasoningText } from './anthropic-inbound.reasoning';

const base = { model: 'anthropic/claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] };
const caught = (body: unknown): DomainError => {
  try {
    anthropicToChatRequest(body);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

describe('anthropicToChatRequest: validation', () => {
  it.each<[string, unknown, string, ErrorCode?]>([
    ['a non-object body', 'x', 'body'],
    ['a missing model', { ...base, model: undefined }, 'model'],
    ['a missing max_tokens', { ...base, max_tokens: undefined }, 'max_tokens'],
    ['max_tokens 0', { ...base, max_tokens: 0 }, 'max_tokens'],
    ['max_tokens 1.5', { ...base, max_tokens: 1.5 }, 'max_tokens'],
    ['no messages', { ...base, messages: [] }, 'messages'],
    ['a bad role', { ...base, messages: [{ role: 'tool', content: 'x' }] }, 'messages.0.role'],
    ['content neither string nor blocks', { ...base, messages: [{ role: 'user', content: 3 }] }, 'messages.0.content'],
    ['a text block without text', { ...base, messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages.0.content.0.text'],
    ['a tool_result without tool_use_id', { ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] }, 'messages.0.content.0.tool_use_id'],
    ['a tool_use in a user turn', { ...base, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'a', name: 'f', input: {} }] }] }, 'messages.0.content.0.type'],
    ['tool_use input not an object', { ...base, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'f', input: [1] }] }] }, 'messages.1.content.0.input'],
    ['an image without source', { ...base, messages: [{ role: 'user', content: [{ type: 'image' }] }] }, 'messages.0.content.0.source'],
    ['temperature above 1', { ...base, temperature: 1.5 }, 'temperature'],
    ['a small thinking budget', { ...base, thinking: { type: 'enabled', budget_tokens: 100 } }, 'thinking.budget_tokens'],
    ['an unknown thinking type', { ...base, thinking: { type: 'sometimes' } }, 'thinking.type'],
    ['a tool without input_schema', { ...base, tools: [{ name: 'f' }] }, 'tools.0.input_schema'],
    ['an unknown tool_choice', { ...base, tool_choice: { type: 'maybe' } }, 'tool_choice.type'],
    ['stream not a boolean', { ...base, stream: 'yes' }, 'stream'],
    ['a server tool', { ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools.0.type', ErrorCode.UnsupportedParameter],
    ['MCP servers', { ...base, mcp_servers: [{ type: 'url', url: 'https://x', name: 'x' }] }, 'mcp_servers', ErrorCode.UnsupportedParameter],
    ['a file image source', { ...base, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] }, 'messages.0.content.0.source.type', ErrorCode.UnsupportedParameter],
  ])('rejects %s naming %s', (_name, body, param, code = ErrorCode.InvalidBody) => {
    const e = caught(body);
    expect(e.code).toBe(code);
    expect(e.details).toMatchObject({ param, retryable: false });
  });
});

describe('anthropicToChatRequest: mapping', () => {
  it('maps the top-level fields', () => {
    expect(
      anthropicToChatRequest({
        ...base,
        system: 'Be terse.',
        stop_sequences: ['END'],
        temperature: 0.5,
        top_p: 0.9,
        top_k: 40,
        stream: true,
        metadata: { user_id: 'u-7f3a' },
        service_tier: 'standard_only',
        context_management: { edits: [] },
      }),
    ).toEqual({
      model: 'anthropic/claude-sonnet-4-5',
      max_completion_tokens: 1024,
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'hi' },
      ],
      stream: true,
      stop: ['END'],
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      user: 'u-7f3a',
      service_tier: 'default',
      // So a refusal names what the client sent (`stop_sequences`, not `stop`).
      client_names: { max_completion_tokens: 'max_tokens', stop: 'stop_sequences', user: 'metadata.user_id' },
    });
  });

  it('records thinking as the name of the effort it becomes, and refuses a fractional top_k', () => {
    expect(anthropicToChatRequest({ ...base, thinking: { type: 'enabled', budget_tokens: 2048 } }).client_names).toMatchObject({ reasoning_effort: 'thinking' });
    expect(anthropicToChatRequest(base).client_names).not.toHaveProperty('reasoning_effort');
    expect(caught({ ...base, top_k: 1.5 }).details).toMatchObject({ param: 'top_k' });
  });

  it('keeps system blocks with their cache_control, and mid-conversation system messages in place', () => {
    const r = anthropicToChatRequest({
      ...base,
      system: [{ type: 'text', text: 'Rules.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [
        { role: 'user', content: 'a' },
        { role: 'system', content: 'Now in French.' },
        { role: 'user', content: 'b' },
      ],
    });
    expect(r.messages).toEqual([
      { role: 'system', content: [{ type: 'text', text: 'Rules.', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
      { role: 'user', content: 'a' },
      { role: 'system', content: [{ type: 'text', text: 'Now in French.' }] },
      { role: 'user', content: 'b' },
    ]);
  });

  it('maps images, documents and text cache hints in user turns', () => {
    const r = anthropicToChatRequest({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look', cache_control: { type: 'ephemeral' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' }, cache_control: { type: 'ephemeral' } },
            { type: 'image', source: { type: 'url', url: 'https://x/y.jpg' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' }, title: 'spec.pdf' },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' }, title: 'Notes' },
          ],
        },
      ],
    });
    expect(r.messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Look', cache_control: { type: 'ephemeral' } },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
        { type: 'image_url', image_url: { url: 'https://x/y.jpg' } },
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER', filename: 'spec.pdf' } },
        { type: 'text', text: 'Notes\n\nnotes' },
      ],
    });
  });

  it('turns a tool loop into assistant tool_calls and tool messages first, images moved after them', () => {
    const r = anthropicToChatRequest({
      ...base,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Need the tool.', signature: 'EqQB' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_02', name: 'screenshot', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'And tomorrow?' },
            { type: 'tool_result', tool_use_id: 'toolu_01', content: '21C', cache_control: { type: 'ephemeral' } },
            { type: 'tool_result', tool_use_id: 'toolu_02', is_error: true, content: [{ type: 'text', text: 'denied' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA' } }] },
          ],
        },
      ],
    });
    expect(r.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'toolu_02', type: 'function', function: { name: 'screenshot', arguments: '{}' } },
        ],
        reasoning_details: [{ type: 'reasoning.text', text: 'Need the tool.', signature: 'EqQB', format: 'anthropic-claude-v1', index: 0 }],
      },
      { role: 'tool', tool_call_id: 'toolu_01', content: [{ type: 'text', text: '21C', cache_control: { type: 'ephemeral' } }] },
      // The error stays a flag for the adapters, not text (Gemini wants `{"error": ...}`).
      { role: 'tool', tool_call_id: 'toolu_02', content: 'denied', is_error: true },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA' } },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
  });

  it('unwraps gateway envelopes in redacted_thinking and keeps real redacted data', () => {
    const gemini = { type: 'reasoning.encrypted' as const, data: 'CsYB', format: 'google-gemini-v1', id: 'call_1', index: 0 };
    const r = anthropicToChatRequest({
      ...base,
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'redacted_thinking', data: 'EncRYPTED' },
            { type: 'redacted_thinking', data: wrapForeignReasoning(gemini) },
            { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'ok' }] },
      ],
    });
    expect(r.messages[1]).toMatchObject({
      reasoning_details: [{ type: 'reasoning.encrypted', data: 'EncRYPTED', format: 'anthropic-claude-v1', index: 0 }, gemini],
      content: null,
    });
  });

  it("gives carried reasoning text back as the assistant message's reasoning, never as a reasoning_details item", () => {
    const r = anthropicToChatRequest({
      ...base,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'redacted_thinking', data: wrapReasoningText('Need the tool.') }, { type: 'tool_use', id: 'call_1', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'ok' }] },
      ],
    });
    expect(r.messages[1]).toEqual({ role: 'assistant', content: 'Checking.', reasoning: 'Need the tool.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] });
  });

  it('maps tools and tool_choice, with disable_parallel_tool_use', () => {
    const tools = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } }, cache_control: { type: 'ephemeral' }, strict: true }];
    const r = anthropicToChatRequest({ ...base, tools, tool_choice: { type: 'any', disable_parallel_tool_use: true } });
    expect(r.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: tools[0].input_schema, strict: true }, cache_control: { type: 'ephemeral' } },
    ]);
    expect(r.tool_choice).toBe('required');
    expect(r.parallel_tool_calls).toBe(false);
    expect(anthropicToChatRequest({ ...base, tools, tool_choice: { type: 'tool', name: 'get_weather' } }).tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(anthropicToChatRequest({ ...base, tools, tool_choice: { type: 'auto' } }).tool_choice).toBe('auto');
    expect(anthropicToChatRequest({ ...base, tools, tool_choice: { type: 'none' } }).tool_choice).toBe('none');
  });

  it('buckets thinking budgets into reasoning_effort and maps output_config', () => {
    expect(effortForBudget(1024)).toBe('low');
    expect(effortForBudget(4095)).toBe('low');
    expect(effortForBudget(4096)).toBe('medium');
    expect(effortForBudget(16383)).toBe('medium');
    expect(effortForBudget(31999)).toBe('high');
    expect(anthropicToChatRequest({ ...base, thinking: { type: 'enabled', budget_tokens: 10000 } }).reasoning_effort).toBe('medium');
    expect(anthropicToChatRequest({ ...base, thinking: { type: 'adaptive' } }).reasoning_effort).toBe('medium');
    expect(anthropicToChatRequest({ ...base, thinking: { type: 'adaptive' }, output_config: { effort: 'high' } }).reasoning_effort).toBe('high');
    expect(anthropicToChatRequest({ ...base, thinking: { type: 'disabled' } })).not.toHaveProperty('reasoning_effort');
    // Effort without thinking asks for no thinking: it is Anthropic's effort alone.
    for (const body of [{ ...base, output_config: { effort: 'low' } }, { ...base, thinking: { type: 'disabled' }, output_config: { effort: 'max' } }]) {
      expect(anthropicToChatRequest(body)).not.toHaveProperty('reasoning_effort');
    }
    expect(effortWithoutThinking({ ...base, output_config: { effort: 'low' } })).toBe('low');
    expect(effortWithoutThinking({ ...base, thinking: { type: 'disabled' }, output_config: { effort: 'max' } })).toBe('max');
    expect(effortWithoutThinking({ ...base, thinking: { type: 'adaptive' }, output_config: { effort: 'high' } })).toBeUndefined();
    expect(effortWithoutThinking(base)).toBeUndefined();
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(anthropicToChatRequest({ ...base, output_config: { format: { type: 'json_schema', schema } } }).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', schema, strict: true },
    });
  });
});

describe('anthropicCountTokensRequest (POST /v1/messages/count_tokens)', () => {
  it('takes the prompt without max_tokens, validated like a Messages request', () => {
    const r = anthropicCountTokensRequest({ model: 'openai/gpt-4o-mini', system: 'Be terse.', messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'f', input_schema: { type: 'object' } }] });
    expect(r.messages).toEqual([{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hi' }]);
    expect(r.tools).toHaveLength(1);
    expect(r.stream).toBeUndefined();
    let e: unknown;
    try {
      anthropicCountTokensRequest({ model: 'm', messages: [] });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).details.param).toBe('messages');
  });
});
