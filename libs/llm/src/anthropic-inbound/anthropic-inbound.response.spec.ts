import { DomainError, ErrorCode } from '@gw/core';
import type { ChatCompletion, ResponseMessage } from '../openai.types';
import { anthropicUsageToTokenUsage } from '../providers/anthropic';
import { anthropicErrorEvent, toAnthropicError } from './anthropic-inbound.errors';
import { unwrapForeignReasoning } from './anthropic-inbound.reasoning';
import { chatCompletionToAnthropic, finishToStopReason } from './anthropic-inbound.response';
import { tokenUsageToAnthropic } from './anthropic-inbound.usage';

const completion = (message: Partial<ResponseMessage>, finish: ChatCompletion['choices'][0]['finish_reason'] = 'stop', usage?: ChatCompletion['usage']): ChatCompletion => ({
  id: 'gen-1',
  object: 'chat.completion',
  created: 1,
  model: 'google/gemini-2.5-flash',
  choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish }],
  ...(usage ? { usage } : {}),
});

describe('usage OpenAI -> Anthropic (wire-formats.md §4.6)', () => {
  it.each([
    { input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 1800, output_tokens: 95, output_tokens_details: { thinking_tokens: 40 } },
    { input_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 3 },
    { input_tokens: 0, cache_creation_input_tokens: 2048, cache_read_input_tokens: 0, output_tokens: 1 },
    { input_tokens: 4, cache_creation_input_tokens: 2048, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 48, ephemeral_1h_input_tokens: 2000 }, output_tokens: 1 },
  ])('round-trips Anthropic usage exactly through the gateway TokenUsage: %j', (u) => {
    expect(tokenUsageToAnthropic(anthropicUsageToTokenUsage(u))).toEqual(u);
  });

  it('takes cache reads and writes out of input_tokens', () => {
    expect(tokenUsageToAnthropic({ promptTokens: 2006, cachedTokens: 1920, cacheWriteTokens: 6, completionTokens: 300, reasoningTokens: 192 })).toEqual({
      input_tokens: 80,
      cache_read_input_tokens: 1920,
      cache_creation_input_tokens: 6,
      output_tokens: 300,
      output_tokens_details: { thinking_tokens: 192 },
    });
  });
});

describe('chatCompletionToAnthropic', () => {
  it('builds thinking (signed only), text and tool_use blocks with the mapped stop reason and usage', () => {
    const msg = chatCompletionToAnthropic(
      completion(
        {
          content: 'Checking.',
          tool_calls: [
            { id: 'toolu_02', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } },
            { id: 'call.with:dots', type: 'function', function: { name: 'bad', arguments: 'not json' } },
          ],
          reasoning_details: [
            { type: 'reasoning.text', text: 'User wants', format: 'anthropic-claude-v1', index: 0 },
            { type: 'reasoning.text', text: ' weather.', format: 'anthropic-claude-v1', index: 0 },
            { type: 'reasoning.text', text: '', signature: 'EqQB', format: 'anthropic-claude-v1', index: 0 },
            { type: 'reasoning.text', text: 'never signed', format: 'anthropic-claude-v1', index: 1 },
            { type: 'reasoning.encrypted', data: 'REDACTED', format: 'anthropic-claude-v1', index: 2 },
            { type: 'reasoning.summary', summary: 'openai summary', format: 'openai-responses-v1' },
          ],
        },
        'tool_calls',
      ),
      { promptTokens: 1912, cachedTokens: 1800, cacheWriteTokens: 100, completionTokens: 95, reasoningTokens: 40 },
    );
    expect(msg).toEqual({
      id: 'gen-1',
      type: 'message',
      role: 'assistant',
      model: 'google/gemini-2.5-flash',
      content: [
        { type: 'thinking', thinking: 'User wants weather.', signature: 'EqQB' },
        { type: 'redacted_thinking', data: 'REDACTED' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: { city: 'Lyon' } },
        { type: 'tool_use', id: 'call_with_dots', name: 'bad', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 12, cache_read_input_tokens: 1800, cache_creation_input_tokens: 100, output_tokens: 95, output_tokens_details: { thinking_tokens: 40 } },
    });
  });

  it('carries a Gemini signature in a redacted_thinking envelope that unwraps to the original detail', () => {
    const detail = { type: 'reasoning.encrypted' as const, data: 'CsYB', format: 'google-gemini-v1', id: 'fc_1', index: 0 };
    const msg = chatCompletionToAnthropic(completion({ tool_calls: [{ id: 'fc_1', type: 'function', function: { name: 'f', arguments: '{}' } }], reasoning_details: [detail], reasoning: 'thought summary' }, 'tool_calls'));
    expect(msg.content[0].type).toBe('redacted_thinking');
    expect(unwrapForeignReasoning((msg.content[0] as { data: string }).data)).toEqual(detail);
    // Unsigned Gemini thought summaries never become thinking blocks.
    expect(msg.content.filter((b) => b.type === 'thinking')).toEqual([]);
  });

  it("carries a tool-loop provider's reasoning in a redacted_thinking envelope before the first tool_use, only when asked and only with tool calls", () => {
    const calls = { reasoning: 'Need the tool.', content: 'Checking.', tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{}' } }] };
    const carried = chatCompletionToAnthropic(completion(calls, 'tool_calls'), undefined, { carryReasoning: true });
    expect(carried.content.map((b) => b.type)).toEqual(['text', 'redacted_thinking', 'tool_use']);
    expect(unwrapForeignReasoning((carried.content[1] as { data: string }).data)).toEqual({ type: 'reasoning.text', text: 'Need the tool.', format: 'gateway-reasoning-text-v1' });
    expect(chatCompletionToAnthropic(completion(calls, 'tool_calls')).content.map((b) => b.type)).toEqual(['text', 'tool_use']);
    expect(chatCompletionToAnthropic(completion({ reasoning: 'Hmm.', content: 'Hi.' }), undefined, { carryReasoning: true }).content.map((b) => b.type)).toEqual(['text']);
  });

  it('uses the completion usage when no TokenUsage is given, and zeros when there is none', () => {
    const u = { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 60 } };
    expect(chatCompletionToAnthropic(completion({ content: 'x' }, 'stop', u)).usage).toEqual({ input_tokens: 40, cache_read_input_tokens: 60, cache_creation_input_tokens: 0, output_tokens: 20 });
    expect(chatCompletionToAnthropic(completion({ content: 'x' })).usage).toEqual({ input_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens: 0 });
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    ['error', 'end_turn'],
    [null, 'end_turn'],
  ] as const)('finish %s -> stop_reason %s', (finish, stop) => {
    expect(finishToStopReason(finish)).toBe(stop);
  });

  it('reports tool_use for tool calls a compatible vendor finished with stop; length stays max_tokens', () => {
    const calls = { tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '{}' } }] };
    expect(chatCompletionToAnthropic(completion(calls, 'stop')).stop_reason).toBe('tool_use');
    expect(chatCompletionToAnthropic(completion({ ...calls, content: 'Let me look.' }, 'stop')).stop_reason).toBe('tool_use');
    expect(chatCompletionToAnthropic(completion(calls, 'length')).stop_reason).toBe('max_tokens');
    expect(chatCompletionToAnthropic(completion({ content: 'plain' }, 'stop')).stop_reason).toBe('end_turn');
  });
});

describe('Anthropic error shape (wire-formats.md §2.10, §4.10)', () => {
  it.each([
    [ErrorCode.InvalidBody, 400, 'invalid_request_error'],
    [ErrorCode.UnsupportedParameter, 400, 'invalid_request_error'],
    [ErrorCode.InvalidApiKey, 401, 'authentication_error'],
    [ErrorCode.InsufficientCredits, 402, 'billing_error'],
    [ErrorCode.ModelNotAllowed, 403, 'permission_error'],
    [ErrorCode.ModelNotFound, 404, 'not_found_error'],
    [ErrorCode.IdempotencyKeyReused, 409, 'conflict_error'],
    [ErrorCode.RequestTooLarge, 413, 'request_too_large'],
    [ErrorCode.UpstreamRateLimited, 429, 'rate_limit_error'],
    [ErrorCode.UpstreamError, 500, 'api_error'],
    [ErrorCode.StreamIncomplete, 500, 'api_error'],
    [ErrorCode.UpstreamTimeout, 504, 'timeout_error'],
    [ErrorCode.UpstreamUnavailable, 529, 'overloaded_error'],
    [ErrorCode.NoAvailableProvider, 529, 'overloaded_error'],
  ])('%s -> %i %s', (code, status, type) => {
    const d = toAnthropicError(new DomainError(code, 'msg'));
    expect(d.status).toBe(status);
    expect(d.body).toEqual({ type: 'error', error: { type, message: 'msg' } });
  });

  it("answers a provider's refusal of the tenant's own key as 500 api_error naming that key, never 401 (which tells Claude Code its own key is wrong)", () => {
    const message = 'openai refused your own openai key cred_1 (HTTP 401); replace it under /api/provider-keys';
    const d = toAnthropicError(new DomainError(ErrorCode.UpstreamAuthError, message, { upstreamStatus: 401 }));
    expect(d.status).toBe(500);
    expect(d.body).toEqual({ type: 'error', error: { type: 'api_error', message } });
  });

  it('adds retry-after and the request id, and hides non-domain errors', () => {
    const d = toAnthropicError(new DomainError(ErrorCode.UpstreamRateLimited, 'slow down', { retryAfterSeconds: 1.2 }), 'gen-9');
    expect(d.headers).toEqual({ 'retry-after': '2', 'request-id': 'gen-9' });
    expect(d.body.request_id).toBe('gen-9');
    expect(toAnthropicError(new Error('secret stack')).body).toEqual({ type: 'error', error: { type: 'api_error', message: 'Internal error' } });
    expect(anthropicErrorEvent(new DomainError(ErrorCode.UpstreamUnavailable, 'Overloaded'))).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });
});
