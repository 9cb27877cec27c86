import { ErrorCode } from '@gw/core';
import { checkEverySplit, contentOf, runStream, toBytes, toolCallsOf } from '../../stream-conformance';
import type { ResponseContext } from '../../provider';
import { anthropicAdapter } from './anthropic.adapter';

const ctx: ResponseContext = { id: 'gen-a', model: 'anthropic/claude-sonnet-4-5', created: 1_760_000_000 };
const factory = () => anthropicAdapter.createStreamTransformer(ctx);
const e = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const START = e('message_start', {
  message: {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    content: [],
    model: 'claude-sonnet-4-5',
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 1800, output_tokens: 1 },
  },
});

/** The full §2.9 sequence: thinking + signature, text, tool_use with a "" first fragment, ping, message_delta, message_stop. */
const FULL =
  START +
  e('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
  e('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'User wants…' } }) +
  e('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQB' } }) +
  e('content_block_stop', { index: 0 }) +
  e('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }) +
  e('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Checking the ' } }) +
  e('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'weather ☀️.' } }) +
  e('content_block_stop', { index: 1 }) +
  e('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: {} } }) +
  e('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } }) +
  e('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": ' } }) +
  e('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '"Lyon"}' } }) +
  e('content_block_stop', { index: 2 }) +
  e('ping', {}) +
  e('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 95, output_tokens_details: { thinking_tokens: 40 } } }) +
  e('message_stop', {});

describe('Anthropic stream transformer', () => {
  it('translates the full event sequence identically at every split', () => {
    const { reference, mismatches } = checkEverySplit(factory, FULL);
    expect(mismatches).toEqual([]);
    expect(reference.error).toBeUndefined();
    const deltas = reference.chunks.map((c) => c.choices[0].delta);
    expect(deltas[0]).toEqual({ role: 'assistant', content: '' });
    expect(deltas[1]).toEqual({ reasoning: 'User wants…', reasoning_details: [{ type: 'reasoning.text', text: 'User wants…', format: 'anthropic-claude-v1', index: 0 }] });
    expect(deltas[2]).toEqual({ reasoning_details: [{ type: 'reasoning.text', text: '', signature: 'EqQB', format: 'anthropic-claude-v1', index: 0 }] });
    expect(contentOf(reference.chunks)).toBe('Checking the weather ☀️.');
    expect(toolCallsOf(reference.chunks)).toEqual([{ id: 'toolu_02', name: 'get_weather', arguments: '{"city": "Lyon"}' }]);
    // No empty argument fragment is forwarded for the "" partial_json.
    expect(reference.chunks.filter((c) => c.choices[0].delta.tool_calls?.[0]?.function?.arguments === '')).toHaveLength(1);
    const last = reference.chunks.at(-1);
    expect(last?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'tool_calls' });
    for (const c of reference.chunks) expect(c).toMatchObject({ id: 'gen-a', model: 'anthropic/claude-sonnet-4-5', created: 1_760_000_000, object: 'chat.completion.chunk' });
    expect(reference.usage).toEqual({ promptTokens: 1912, cachedTokens: 1800, cacheWriteTokens: 100, completionTokens: 95, reasoningTokens: 40 });
    expect(reference.finished).toBe(true);
  });

  it('numbers tool calls with its own counter, not the block index', () => {
    const s =
      START +
      e('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      e('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Two calls.' } }) +
      e('content_block_stop', { index: 0 }) +
      e('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'a', name: 'f', input: {} } }) +
      e('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{}' } }) +
      e('content_block_stop', { index: 1 }) +
      e('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'b', name: 'g', input: {} } }) +
      e('content_block_stop', { index: 2 }) +
      e('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } }) +
      e('message_stop', {});
    const r = runStream(factory(), [toBytes(s)]);
    const indices = r.chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []).map((t) => t.index);
    expect(new Set(indices)).toEqual(new Set([0, 1]));
    expect(toolCallsOf(r.chunks)).toEqual([
      { id: 'a', name: 'f', arguments: '{}' },
      { id: 'b', name: 'g', arguments: '{}' },
    ]);
  });

  it('sends tool input given whole in content_block_start when no delta follows', () => {
    const s =
      START +
      e('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 't', name: 'f', input: { q: 'x' } } }) +
      e('content_block_stop', { index: 0 }) +
      e('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 3 } }) +
      e('message_stop', {});
    const { reference, mismatches } = checkEverySplit(factory, s);
    expect(mismatches).toEqual([]);
    expect(toolCallsOf(reference.chunks)).toEqual([{ id: 't', name: 'f', arguments: '{"q":"x"}' }]);
  });

  it('gives a tool call without arguments "{}", as a non-streamed answer does', () => {
    const s =
      START +
      e('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 't', name: 'now', input: {} } }) +
      e('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '' } }) +
      e('content_block_stop', { index: 0 }) +
      e('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 3 } }) +
      e('message_stop', {});
    const { reference, mismatches } = checkEverySplit(factory, s);
    expect(mismatches).toEqual([]);
    expect(toolCallsOf(reference.chunks)).toEqual([{ id: 't', name: 'now', arguments: '{}' }]);
  });

  it('overwrites cumulative usage from message_delta instead of adding', () => {
    const s =
      START +
      e('message_delta', { delta: { stop_reason: null }, usage: { output_tokens: 10 } }) +
      e('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 20, input_tokens: 15, cache_read_input_tokens: null } }) +
      e('message_stop', {});
    const r = runStream(factory(), [toBytes(s)]);
    expect(r.usage).toEqual({ promptTokens: 15 + 1800 + 100, cachedTokens: 1800, cacheWriteTokens: 100, completionTokens: 20, reasoningTokens: 0 });
    expect(r.chunks.filter((c) => c.choices[0].finish_reason !== null)).toHaveLength(1);
  });

  it('keeps the hour-long cache writes of message_start apart', () => {
    const s =
      e('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: 'm', usage: { input_tokens: 3, cache_creation_input_tokens: 500, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 }, output_tokens: 1 } } }) +
      e('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 4 } }) +
      e('message_stop', {});
    const r = runStream(factory(), [toBytes(s)]);
    expect(r.usage).toEqual({ promptTokens: 503, cachedTokens: 0, cacheWriteTokens: 500, cacheWrite1hTokens: 300, completionTokens: 4, reasoningTokens: 0 });
  });

  it.each([
    ['max_tokens', 'length'],
    ['end_turn', 'stop'],
    ['refusal', 'content_filter'],
  ])('maps stop_reason %s to %s', (reason, finish) => {
    const s = START + e('message_delta', { delta: { stop_reason: reason }, usage: { output_tokens: 1 } }) + e('message_stop', {});
    expect(runStream(factory(), [toBytes(s)]).chunks.at(-1)?.choices[0].finish_reason).toBe(finish);
  });

  it('throws a retryable error when the first event is event: error (pre-commit)', () => {
    const s = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const r = runStream(factory(), [toBytes(s)]);
    expect(r.chunks).toEqual([]);
    expect(r.error).toMatchObject({ code: ErrorCode.UpstreamUnavailable, retryable: true });
  });

  it('returns the chunks before a mid-stream error, then throws it, at every split', () => {
    const s =
      START +
      e('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      e('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' } }) +
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Internal"}}\n\n';
    const { reference, mismatches } = checkEverySplit(factory, s);
    expect(mismatches).toEqual([]);
    expect(contentOf(reference.chunks)).toBe('Hel');
    expect(reference.error).toMatchObject({ code: ErrorCode.UpstreamError, retryable: false });
  });

  it.each([
    ['after message_delta, before message_stop', START + e('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } })],
    ['mid text', START + e('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) + e('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } })],
    ['mid event', START + 'event: content_block_start\ndata: {"type":"content_block_st'],
    ['empty', ''],
  ])('EOF without message_stop is StreamIncomplete (%s), at every split', (_n, s) => {
    const { reference, mismatches } = checkEverySplit(factory, s, 5);
    expect(mismatches).toEqual([]);
    expect(reference.error?.code).toBe(ErrorCode.StreamIncomplete);
  });

  it('keeps the input usage when the stream was cut (for partial billing)', () => {
    const r = runStream(factory(), [toBytes(START)]);
    expect(r.error?.code).toBe(ErrorCode.StreamIncomplete);
    expect(r.usage?.promptTokens).toBe(1912);
  });

  it('relays valid events then fails on a malformed one, retryable only while no output was produced', () => {
    const s = START + 'event: content_block_delta\ndata: {oops}\n\n' + e('message_stop', {});
    const r = runStream(factory(), [toBytes(s)]);
    // Only the role chunk came before: the gateway holds it back, so nothing is committed yet.
    expect(r.chunks).toHaveLength(1);
    expect(r.error).toMatchObject({ code: ErrorCode.StreamIncomplete, retryable: true });
    const text = e('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) + e('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } });
    const after = runStream(factory(), [toBytes(START + text + 'event: content_block_delta\ndata: {oops}\n\n')]);
    expect(after.chunks.length).toBeGreaterThan(1);
    expect(after.error).toMatchObject({ code: ErrorCode.StreamIncomplete, retryable: false });
  });

  it('ignores unknown events and blocks (forward compatibility)', () => {
    const s =
      START +
      e('content_block_start', { index: 0, content_block: { type: 'server_tool_use', id: 's', name: 'web_search', input: {} } }) +
      e('content_block_stop', { index: 0 }) +
      e('something_new', { x: 1 }) +
      e('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } }) +
      e('message_stop', {});
    const r = runStream(factory(), [toBytes(s)]);
    expect(r.error).toBeUndefined();
    expect(r.chunks).toHaveLength(2);
  });
});
