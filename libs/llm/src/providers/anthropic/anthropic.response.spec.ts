import { ErrorCode } from '@gw/core';
import type { ResponseContext } from '../../provider';
import { anthropicAdapter } from './anthropic.adapter';
import { anthropicUsageToTokenUsage, mapStopReason } from './anthropic.response';

const ctx: ResponseContext = { id: 'gen-9', model: 'anthropic/claude-sonnet-4-5', created: 1_750_000_000 };

const message = (over: Record<string, unknown> = {}) => ({
  id: 'msg_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [
    { type: 'thinking', thinking: 'Need weather.', signature: 'EqQB' },
    { type: 'text', text: 'Checking.', citations: null },
    { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: { city: 'Lyon' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: {
    input_tokens: 12,
    cache_creation_input_tokens: 100,
    cache_read_input_tokens: 1800,
    output_tokens: 95,
    output_tokens_details: { thinking_tokens: 40 },
  },
  ...over,
});

describe('Anthropic response mapping', () => {
  it('maps text, tool_use, thinking and usage, stamping the gateway id/model/created', () => {
    const { completion, usage } = anthropicAdapter.parseChatResponse(message(), ctx);
    expect(completion).toEqual({
      id: 'gen-9',
      object: 'chat.completion',
      created: 1_750_000_000,
      model: 'anthropic/claude-sonnet-4-5',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          logprobs: null,
          message: {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [{ id: 'toolu_02', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }],
            reasoning: 'Need weather.',
            reasoning_details: [{ type: 'reasoning.text', text: 'Need weather.', signature: 'EqQB', format: 'anthropic-claude-v1', index: 0 }],
          },
        },
      ],
      usage: {
        prompt_tokens: 1912,
        completion_tokens: 95,
        total_tokens: 2007,
        prompt_tokens_details: { cached_tokens: 1800, cache_write_tokens: 100 },
        completion_tokens_details: { reasoning_tokens: 40 },
      },
    });
    expect(usage).toEqual({ promptTokens: 1912, cachedTokens: 1800, cacheWriteTokens: 100, completionTokens: 95, reasoningTokens: 40 });
  });

  it('gives null content for a tool-only answer and carries redacted thinking', () => {
    const { completion } = anthropicAdapter.parseChatResponse(
      message({ content: [{ type: 'redacted_thinking', data: 'opaque' }, { type: 'tool_use', id: 't', name: 'f', input: {} }] }),
      ctx,
    );
    expect(completion.choices[0].message.content).toBeNull();
    expect(completion.choices[0].message.reasoning_details).toEqual([{ type: 'reasoning.encrypted', data: 'opaque', format: 'anthropic-claude-v1', index: 0 }]);
  });

  it('joins several text blocks and gives "" for an empty answer', () => {
    expect(anthropicAdapter.parseChatResponse(message({ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }), ctx).completion.choices[0].message.content).toBe('ab');
    expect(anthropicAdapter.parseChatResponse(message({ content: [], stop_reason: 'end_turn' }), ctx).completion.choices[0].message.content).toBe('');
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['model_context_window_exceeded', 'length'],
    ['pause_turn', 'stop'],
    [null, 'stop'],
  ])('stop_reason %s -> finish_reason %s', (reason, finish) => {
    expect(mapStopReason(reason)).toBe(finish);
  });

  it('usage formula: prompt = input + cache reads + cache writes; nulls are zero', () => {
    expect(anthropicUsageToTokenUsage({ input_tokens: 5, cache_read_input_tokens: null, cache_creation_input_tokens: null, output_tokens: 3 })).toEqual({
      promptTokens: 5,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      completionTokens: 3,
      reasoningTokens: 0,
    });
  });

  it('names the stop sequence that ended the answer on the choice', () => {
    const body = { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'one' }], stop_reason: 'stop_sequence', stop_sequence: '###', usage: { input_tokens: 1, output_tokens: 1 } };
    const { completion } = anthropicAdapter.parseChatResponse(body, { id: 'gen-1', model: 'pub/m', created: 1 });
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', stop_sequence: '###' });
    const natural = anthropicAdapter.parseChatResponse({ ...body, stop_reason: 'end_turn', stop_sequence: null }, { id: 'gen-1', model: 'pub/m', created: 1 });
    expect(natural.completion.choices[0]).not.toHaveProperty('stop_sequence');
  });

  it('keeps the hour-long cache writes apart, within the writes', () => {
    const u = { input_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 }, output_tokens: 3 };
    expect(anthropicUsageToTokenUsage(u)).toEqual({ promptTokens: 305, cachedTokens: 0, cacheWriteTokens: 300, cacheWrite1hTokens: 200, completionTokens: 3, reasoningTokens: 0 });
    // A split larger than the total is clamped to it; a split of 0 adds nothing.
    expect(anthropicUsageToTokenUsage({ ...u, cache_creation: { ephemeral_1h_input_tokens: 900 } }).cacheWrite1hTokens).toBe(300);
    expect(anthropicUsageToTokenUsage({ ...u, cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 0 } })).not.toHaveProperty('cacheWrite1hTokens');
  });

  it('rejects bodies that are not messages and maps error bodies', () => {
    expect(() => anthropicAdapter.parseChatResponse({ type: 'message' }, ctx)).toThrow(expect.objectContaining({ code: ErrorCode.UpstreamBadResponse }));
    expect(() => anthropicAdapter.parseChatResponse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, ctx)).toThrow(
      expect.objectContaining({ code: ErrorCode.UpstreamUnavailable }),
    );
  });
});

describe('Anthropic mapError (wire-formats.md §4.10)', () => {
  const body = (type: string, msg = 'm') => JSON.stringify({ type: 'error', error: { type, message: msg }, request_id: 'req_1' });
  it.each([
    [400, 'invalid_request_error', ErrorCode.InvalidBody, false],
    [401, 'authentication_error', ErrorCode.UpstreamError, false],
    [402, 'billing_error', ErrorCode.UpstreamError, true],
    [403, 'permission_error', ErrorCode.UpstreamError, false],
    [404, 'not_found_error', ErrorCode.NotFound, false],
    [413, 'request_too_large', ErrorCode.RequestTooLarge, false],
    [429, 'rate_limit_error', ErrorCode.UpstreamRateLimited, true],
    [500, 'api_error', ErrorCode.UpstreamError, true],
    [504, 'timeout_error', ErrorCode.UpstreamTimeout, true],
    [529, 'overloaded_error', ErrorCode.UpstreamUnavailable, true],
  ])('%i %s -> %s (retryable %s)', (status, type, code, retryable) => {
    const e = anthropicAdapter.mapError(status, body(type), { 'retry-after': '4' });
    expect(e.code).toBe(code);
    expect(e.details.retryable).toBe(retryable);
    if (status === 429 || status === 529) expect(e.details.retryAfterSeconds).toBe(4);
  });

  it('passes the upstream message for invalid requests', () => {
    expect(anthropicAdapter.mapError(400, body('invalid_request_error', 'messages: text content blocks must be non-empty'), {}).message).toBe(
      'messages: text content blocks must be non-empty',
    );
  });
});
