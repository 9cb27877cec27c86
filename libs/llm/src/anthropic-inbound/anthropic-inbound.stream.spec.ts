import { DomainError, ErrorCode } from '@gw/core';
import type { ChatCompletionChunk } from '../openai.types';
import type { ResponseContext, StreamTransformer } from '../provider';
import { anthropicAdapter, geminiAdapter } from '../providers';
import { ProviderRegistry } from '../registry';
import { splitsOf, toBytes } from '../stream-conformance';
import { unwrapForeignReasoning } from './anthropic-inbound.reasoning';
import { anthropicEventsToSse, ChatChunksToAnthropicEvents } from './anthropic-inbound.stream';
import type { AnthropicEventOut } from './anthropic-inbound.types';

const ctx: ResponseContext = { id: 'gen-x', model: 'pub/model', created: 1_760_000_000 };
const actx = { id: 'gen-x', model: 'pub/model' };

/** Upstream bytes -> adapter transformer -> converter, the way the gateway's /v1/messages relay runs them. */
function convert(factory: () => StreamTransformer, pieces: readonly Uint8Array[]): AnthropicEventOut[] {
  const t = factory();
  const conv = new ChatChunksToAnthropicEvents(actx);
  const events: AnthropicEventOut[] = [];
  try {
    for (const p of pieces) events.push(...conv.push(t.push(p), t.usage()));
    events.push(...conv.push(t.end(), t.usage()));
    events.push(...conv.end(t.usage()));
  } catch (e) {
    events.push(...conv.fail(e));
  }
  return events;
}

/**
 * The converter's output must not depend on how the upstream bytes were cut. With `usageAtEnd`
 * (OpenAI-format upstreams report usage only in their last chunk) the input usage in
 * message_start is known only when the whole stream came in one read, so it is left out of the
 * comparison; message_delta's final usage is compared everywhere.
 */
function convertAtEverySplit(factory: () => StreamTransformer, input: string, usageAtEnd = false): { reference: AnthropicEventOut[]; mismatches: string[] } {
  let reference: AnthropicEventOut[] | undefined;
  let refJson = '';
  const mismatches: string[] = [];
  for (const { name, pieces } of splitsOf(input, 30)) {
    const events = convert(factory, pieces);
    const json = JSON.stringify(usageAtEnd ? events.map((e) => (e.type === 'message_start' ? { ...e, message: { ...e.message, usage: null } } : e)) : events);
    if (reference === undefined) {
      reference = events;
      refJson = json;
    } else if (json !== refJson) mismatches.push(name);
  }
  if (reference === undefined) throw new Error('no input');
  return { reference, mismatches };
}

/** What @anthropic-ai/sdk's MessageStream requires (wire-formats.md §2.9): returns the violations. */
function sequenceProblems(events: readonly AnthropicEventOut[]): string[] {
  const problems: string[] = [];
  if (events[0]?.type !== 'message_start') problems.push('message_start is not first');
  let open: number | undefined;
  let next = 0;
  let delta = false;
  events.forEach((e, i) => {
    if (i > 0 && e.type === 'message_start') problems.push(`second message_start at ${i}`);
    if (delta && e.type !== 'message_stop' && e.type !== 'ping' && e.type !== 'message_delta') problems.push(`${e.type} after message_delta`);
    if (e.type === 'content_block_start') {
      if (open !== undefined) problems.push(`block ${e.index} opened while ${open} is open`);
      if (e.index !== next) problems.push(`block ${e.index} out of order (expected ${next})`);
      open = e.index;
      next++;
    } else if (e.type === 'content_block_delta' && e.index !== open) problems.push(`delta for ${e.index} while ${String(open)} is open`);
    else if (e.type === 'content_block_stop') {
      if (e.index !== open) problems.push(`stop for ${e.index} while ${String(open)} is open`);
      open = undefined;
    } else if (e.type === 'message_delta') {
      if (open !== undefined) problems.push('message_delta with a block open');
      delta = true;
    }
  });
  const last = events.at(-1)?.type;
  if (last !== 'message_stop' && last !== 'error') problems.push(`ends with ${String(last)}`);
  return problems;
}

/** The final message the SDK would accumulate (text joined, tool input parsed, thinking + signature). */
function accumulate(events: readonly AnthropicEventOut[]) {
  const content: Array<Record<string, unknown>> = [];
  const json: string[] = [];
  let stop: unknown;
  let usage: Record<string, unknown> = {};
  for (const e of events) {
    if (e.type === 'message_start') usage = { ...e.message.usage };
    if (e.type === 'content_block_start') content[e.index] = { ...e.content_block };
    if (e.type === 'content_block_delta') {
      const b = content[e.index];
      const d = e.delta;
      if (d.type === 'text_delta') b.text = String(b.text) + d.text;
      if (d.type === 'thinking_delta') b.thinking = String(b.thinking) + d.thinking;
      if (d.type === 'signature_delta') b.signature = d.signature;
      if (d.type === 'input_json_delta') json[e.index] = (json[e.index] ?? '') + d.partial_json;
    }
    if (e.type === 'content_block_stop' && json[e.index] !== undefined) content[e.index].input = JSON.parse(json[e.index]);
    if (e.type === 'message_delta') {
      stop = e.delta.stop_reason;
      usage = { ...usage, ...e.usage };
    }
  }
  return { content, stop, usage };
}

const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const ANTHROPIC_FULL =
  ev('message_start', {
    message: { id: 'msg_01', type: 'message', role: 'assistant', content: [], model: 'claude', stop_reason: null, usage: { input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 1800, output_tokens: 1 } },
  }) +
  ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
  ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'User wants ' } }) +
  ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'weather.' } }) +
  ev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQB' } }) +
  ev('content_block_stop', { index: 0 }) +
  ev('content_block_start', { index: 1, content_block: { type: 'redacted_thinking', data: 'RED' } }) +
  ev('content_block_stop', { index: 1 }) +
  ev('content_block_start', { index: 2, content_block: { type: 'text', text: '' } }) +
  ev('content_block_delta', { index: 2, delta: { type: 'text_delta', text: 'Checking ' } }) +
  ev('content_block_delta', { index: 2, delta: { type: 'text_delta', text: 'Lyon ☀️.' } }) +
  ev('content_block_stop', { index: 2 }) +
  ev('content_block_start', { index: 3, content_block: { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: {} } }) +
  ev('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: '' } }) +
  ev('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: '{"city": ' } }) +
  ev('content_block_delta', { index: 3, delta: { type: 'input_json_delta', partial_json: '"Lyon"}' } }) +
  ev('content_block_stop', { index: 3 }) +
  ev('ping', {}) +
  ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 95, output_tokens_details: { thinking_tokens: 40 } } }) +
  ev('message_stop', {});

describe('ChatChunksToAnthropicEvents: Anthropic upstream -> OpenAI chunks -> Anthropic client', () => {
  const factory = () => anthropicAdapter.createStreamTransformer(ctx);

  it('reproduces the upstream message (blocks, signature, usage with cache) identically at every split', () => {
    const { reference, mismatches } = convertAtEverySplit(factory, ANTHROPIC_FULL);
    expect(mismatches).toEqual([]);
    expect(sequenceProblems(reference)).toEqual([]);
    const start = reference[0];
    // The input usage is known at message_start and survives exactly.
    expect(start).toMatchObject({ type: 'message_start', message: { id: 'gen-x', model: 'pub/model', usage: { input_tokens: 12, cache_read_input_tokens: 1800, cache_creation_input_tokens: 100 } } });
    const msg = accumulate(reference);
    expect(msg.content).toEqual([
      { type: 'thinking', thinking: 'User wants weather.', signature: 'EqQB' },
      { type: 'redacted_thinking', data: 'RED' },
      { type: 'text', text: 'Checking Lyon ☀️.' },
      { type: 'tool_use', id: 'toolu_02', name: 'get_weather', input: { city: 'Lyon' } },
    ]);
    expect(msg.stop).toBe('tool_use');
    expect(msg.usage).toEqual({ input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 1800, output_tokens: 95, output_tokens_details: { thinking_tokens: 40 } });
    // Tool input streams as input_json_delta fragments, never as an empty fragment.
    const fragments = reference.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta');
    expect(fragments.map((e) => (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' ? e.delta.partial_json : ''))).toEqual(['{"city": ', '"Lyon"}']);
  });

  it('keeps the stop sequence that ended the answer', () => {
    const input =
      ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: 'm', stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } }) +
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'one two' } }) +
      ev('content_block_stop', { index: 0 }) +
      ev('message_delta', { delta: { stop_reason: 'stop_sequence', stop_sequence: '###' }, usage: { output_tokens: 2 } }) +
      ev('message_stop', {});
    const { reference, mismatches } = convertAtEverySplit(factory, input);
    expect(mismatches).toEqual([]);
    expect(reference.find((e) => e.type === 'message_delta')).toMatchObject({ delta: { stop_reason: 'stop_sequence', stop_sequence: '###' } });
  });

  it('gives an OpenAI refusal as text, as the non-streamed reply does', () => {
    const conv = new ChatChunksToAnthropicEvents(actx);
    const chunk = (delta: object, finish: string | null = null): ChatCompletionChunk =>
      ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }) as ChatCompletionChunk;
    const events = [
      ...conv.push([chunk({ role: 'assistant', refusal: "I'm sorry, " }), chunk({ refusal: 'I cannot help with that.' }), chunk({}, 'stop')], undefined),
      ...conv.end(undefined),
    ];
    const text = events.flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? [e.delta.text] : [])).join('');
    expect(text).toBe("I'm sorry, I cannot help with that.");
    expect(events.map((e) => e.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  });

  it('drops thinking that never got its signature (the stream was cut) and ends with an error event', () => {
    const cut = ANTHROPIC_FULL.slice(0, ANTHROPIC_FULL.indexOf('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta"'));
    const { reference, mismatches } = convertAtEverySplit(factory, cut);
    expect(mismatches).toEqual([]);
    expect(sequenceProblems(reference)).toEqual([]);
    expect(reference.some((e) => e.type === 'content_block_start' && e.content_block.type === 'thinking')).toBe(false);
    expect(reference.at(-1)).toEqual({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('closed the stream') } });
    expect(reference.some((e) => e.type === 'message_stop')).toBe(false);
  });
});

describe('ChatChunksToAnthropicEvents: OpenAI-format upstream', () => {
  const openai = new ProviderRegistry().get('openai');
  if (openai === undefined) throw new Error('openai adapter');
  const factory = () => openai.createStreamTransformer(ctx);
  const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const STREAM =
    chunk({ role: 'assistant', content: '' }) +
    chunk({ reasoning: 'unsigned thoughts' }) +
    chunk({ content: 'Two calls.' }) +
    chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }) +
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }) +
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }) +
    chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } }] }) +
    chunk({}, 'tool_calls') +
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306, prompt_tokens_details: { cached_tokens: 1920 }, completion_tokens_details: { reasoning_tokens: 192 } } })}\n\n` +
    'data: [DONE]\n\n';

  it('opens one block at a time, streams tool input, and reports the final usage in message_delta', () => {
    const { reference, mismatches } = convertAtEverySplit(factory, STREAM, true);
    expect(mismatches).toEqual([]);
    expect(sequenceProblems(reference)).toEqual([]);
    // Usage is unknown at message_start when the usage chunk has not arrived yet.
    const cut = convert(factory, [toBytes(STREAM.slice(0, 200)), toBytes(STREAM.slice(200))]);
    expect(cut[0]).toMatchObject({ message: { usage: { input_tokens: 0, output_tokens: 0 } } });
    const msg = accumulate(reference);
    expect(msg.content).toEqual([
      { type: 'text', text: 'Two calls.' },
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_b', name: 'get_time', input: {} },
    ]);
    expect(msg.stop).toBe('tool_use');
    expect(msg.usage).toEqual({ input_tokens: 86, cache_read_input_tokens: 1920, cache_creation_input_tokens: 0, output_tokens: 300, output_tokens_details: { thinking_tokens: 192 } });
  });

  const open = (index: number, id: string, name: string, args = '') => chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: args } }] });
  const args = (index: number, text: string) => chunk({ tool_calls: [{ index, function: { arguments: text } }] });
  const toolInputs = (events: readonly AnthropicEventOut[]) => accumulate(events).content.filter((b) => b.type === 'tool_use');

  it('emits interleaved parallel tool calls (both opened, then the arguments of each) as whole blocks, valid at every split', () => {
    const interleaved =
      chunk({ role: 'assistant', content: '' }) +
      open(0, 'call_a', 'get_weather') +
      open(1, 'call_b', 'get_time') +
      args(0, '{"city":') +
      args(0, '"Paris"}') +
      args(1, '{"tz":') +
      args(1, '"CET"}') +
      chunk({}, 'tool_calls') +
      'data: [DONE]\n\n';
    const { reference, mismatches } = convertAtEverySplit(factory, interleaved, true);
    expect(mismatches).toEqual([]);
    expect(sequenceProblems(reference)).toEqual([]);
    expect(reference.some((e) => e.type === 'error')).toBe(false);
    expect(toolInputs(reference)).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_b', name: 'get_time', input: { tz: 'CET' } },
    ]);
    expect(accumulate(reference).stop).toBe('tool_use');
  });

  it('holds a call opened with its arguments while another streams, and sends it whole after it', () => {
    const interleaved =
      chunk({ role: 'assistant', content: '' }) +
      open(0, 'a', 'f', '{"x":') +
      open(1, 'b', 'g', '{}') +
      args(0, '1}') +
      chunk({}, 'tool_calls') +
      'data: [DONE]\n\n';
    const { reference, mismatches } = convertAtEverySplit(factory, interleaved, true);
    expect(mismatches).toEqual([]);
    expect(sequenceProblems(reference)).toEqual([]);
    expect(toolInputs(reference)).toEqual([
      { type: 'tool_use', id: 'a', name: 'f', input: { x: 1 } },
      { type: 'tool_use', id: 'b', name: 'g', input: {} },
    ]);
  });

  it('streams sequential tool calls fragment by fragment, each as it comes', () => {
    const conv = new ChatChunksToAnthropicEvents(actx);
    const t = factory();
    const step = (sse: string) => conv.push(t.push(toBytes(sse)), t.usage()).map((e) => (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' ? `delta ${e.index} ${e.delta.partial_json}` : `${e.type}${'index' in e ? ` ${e.index}` : ''}`));
    expect(step(chunk({ role: 'assistant', content: '' }))).toEqual(['message_start']);
    expect(step(open(0, 'call_a', 'f'))).toEqual([]);
    expect(step(args(0, '{"x":'))).toEqual(['content_block_start 0', 'delta 0 {"x":']);
    expect(step(args(0, '1}'))).toEqual(['delta 0 1}']);
    expect(step(open(1, 'call_b', 'g'))).toEqual([]);
    expect(step(args(1, '{"y":'))).toEqual(['content_block_stop 0', 'content_block_start 1', 'delta 1 {"y":']);
    expect(step(args(1, '2}'))).toEqual(['delta 1 2}']);
    expect(step(chunk({}, 'tool_calls') + 'data: [DONE]\n\n')).toEqual([]);
    expect(conv.end(t.usage()).map((e) => e.type)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
  });

  it('ends with an error event when a call resumes its arguments after another call streamed its own', () => {
    const resumed =
      chunk({ role: 'assistant', content: '' }) +
      open(0, 'a', 'f') +
      args(0, '{"x":') +
      open(1, 'b', 'g') +
      args(1, '{}') +
      args(0, '1}') +
      chunk({}, 'tool_calls') +
      'data: [DONE]\n\n';
    const events = convert(factory, [toBytes(resumed)]);
    expect(sequenceProblems(events)).toEqual([]);
    expect(events.at(-1)).toEqual({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('interleaved') } });
  });

  it('reports tool_use when a compatible vendor finishes tool calls with stop', () => {
    const stopped = chunk({ role: 'assistant', content: '' }) + open(0, 'a', 'f', '{}') + chunk({}, 'stop') + 'data: [DONE]\n\n';
    const { reference, mismatches } = convertAtEverySplit(factory, stopped, true);
    expect(mismatches).toEqual([]);
    expect(accumulate(reference).stop).toBe('tool_use');
  });

  it('maps length and content_filter finishes', () => {
    for (const [finish, stop] of [
      ['length', 'max_tokens'],
      ['content_filter', 'refusal'],
      ['stop', 'end_turn'],
    ]) {
      const events = convert(factory, [toBytes(chunk({ content: 'x' }) + chunk({}, finish) + 'data: [DONE]\n\n')]);
      expect(accumulate(events).stop).toBe(stop);
    }
  });
});

describe('ChatChunksToAnthropicEvents: a provider that wants its reasoning back in tool loops', () => {
  const deepseek = new ProviderRegistry().get('deepseek');
  if (deepseek === undefined) throw new Error('deepseek adapter');
  const factory = () => deepseek.createStreamTransformer(ctx);
  const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const STREAM =
    chunk({ role: 'assistant', content: '' }) +
    chunk({ reasoning_content: 'The user wants ' }) +
    chunk({ reasoning_content: 'the weather.' }) +
    chunk({ content: 'Checking.' }) +
    chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }) +
    chunk({}, 'tool_calls') +
    'data: [DONE]\n\n';

  /** The same relay as `convert`, with the provider's carryReasoning. */
  function convertCarrying(input: string, carryReasoning: boolean, at?: number): AnthropicEventOut[] {
    const t = factory();
    const conv = new ChatChunksToAnthropicEvents({ ...actx, carryReasoning });
    const pieces = at === undefined ? [input] : [input.slice(0, at), input.slice(at)];
    const events: AnthropicEventOut[] = [];
    for (const p of pieces) events.push(...conv.push(t.push(toBytes(p)), t.usage()));
    events.push(...conv.push(t.end(), t.usage()), ...conv.end(t.usage()));
    return events;
  }

  it('carries the reasoning of a message that calls tools in a redacted_thinking envelope before the tool_use, at every split', () => {
    const reference = convertCarrying(STREAM, true);
    expect(sequenceProblems(reference)).toEqual([]);
    const msg = accumulate(reference);
    expect(msg.content.map((b) => b.type)).toEqual(['text', 'redacted_thinking', 'tool_use']);
    expect(unwrapForeignReasoning(String(msg.content[1].data))).toEqual({ type: 'reasoning.text', text: 'The user wants the weather.', format: 'gateway-reasoning-text-v1' });
    const mismatches: number[] = [];
    for (let at = 1; at < STREAM.length; at++) if (JSON.stringify(convertCarrying(STREAM, true, at)) !== JSON.stringify(reference)) mismatches.push(at);
    expect(mismatches).toEqual([]);
  });

  it('carries nothing for a message without tool calls, nor for a provider that does not want it back', () => {
    const noTools = chunk({ role: 'assistant', content: '' }) + chunk({ reasoning_content: 'Hmm.' }) + chunk({ content: 'Hi.' }) + chunk({}, 'stop') + 'data: [DONE]\n\n';
    expect(accumulate(convertCarrying(noTools, true)).content.map((b) => b.type)).toEqual(['text']);
    expect(accumulate(convertCarrying(STREAM, false)).content.map((b) => b.type)).toEqual(['text', 'tool_use']);
  });
});

describe('ChatChunksToAnthropicEvents: Gemini upstream', () => {
  const factory = () => geminiAdapter.createStreamTransformer(ctx);
  const d = (obj: object) => `data: ${JSON.stringify(obj)}\r\n\r\n`;
  const STREAM =
    d({ candidates: [{ content: { role: 'model', parts: [{ text: 'Need weather.', thought: true }] } }], usageMetadata: { promptTokenCount: 120, cachedContentTokenCount: 64, totalTokenCount: 120 } }) +
    d({ candidates: [{ content: { role: 'model', parts: [{ text: 'Checking.' }] } }] }) +
    d({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Lyon' }, id: 'fc_1' }, thoughtSignature: 'CsYB' }] } }] }) +
    d({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 120, cachedContentTokenCount: 64, candidatesTokenCount: 15, thoughtsTokenCount: 80, totalTokenCount: 215 } });

  it('drops unsigned thought summaries, carries the signature before its tool_use, and maps usage', () => {
    const { reference, mismatches } = convertAtEverySplit(factory, STREAM);
    expect(mismatches).toEqual([]);
    expect(sequenceProblems(reference)).toEqual([]);
    expect(reference[0]).toMatchObject({ message: { usage: { input_tokens: 56, cache_read_input_tokens: 64, cache_creation_input_tokens: 0, output_tokens: 0 } } });
    const msg = accumulate(reference);
    expect(msg.content.map((b) => b.type)).toEqual(['text', 'redacted_thinking', 'tool_use']);
    expect(unwrapForeignReasoning(String(msg.content[1].data))).toEqual({ type: 'reasoning.encrypted', data: 'CsYB', format: 'google-gemini-v1', id: 'fc_1', index: 0 });
    expect(msg.content[2]).toEqual({ type: 'tool_use', id: 'fc_1', name: 'get_weather', input: { city: 'Lyon' } });
    expect(msg.stop).toBe('tool_use');
    expect(msg.usage).toEqual({ input_tokens: 56, cache_read_input_tokens: 64, cache_creation_input_tokens: 0, output_tokens: 95, output_tokens_details: { thinking_tokens: 80 } });
  });

  it('reports an EOF without finishReason as an error event, never message_stop', () => {
    const events = convert(factory, [toBytes(STREAM.slice(0, STREAM.lastIndexOf('data:')))]);
    expect(sequenceProblems(events)).toEqual([]);
    expect(events.at(-1)?.type).toBe('error');
    expect(events.some((e) => e.type === 'message_stop')).toBe(false);
  });
});

describe('ChatChunksToAnthropicEvents: direct use', () => {
  const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: ChatCompletionChunk['choices'][0]['finish_reason'] = null, index = 0): ChatCompletionChunk => ({
    id: 'x',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index, delta, finish_reason: finish }],
  });

  it('starts on the first chunk, ignores other choices, and ends once', () => {
    const conv = new ChatChunksToAnthropicEvents(actx);
    expect(conv.push([])).toEqual([]);
    expect(conv.hasStarted).toBe(false);
    const first = conv.push([chunk({ role: 'assistant', content: '' }), chunk({ content: 'other choice' }, null, 1), chunk({ content: 'hi' })]);
    expect(first.map((e) => e.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
    expect(conv.push(chunk({}, 'stop')).map((e) => e.type)).toEqual([]);
    const end = conv.end({ promptTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 1, reasoningTokens: 0 });
    expect(end).toEqual([
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { input_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } },
      { type: 'message_stop' },
    ]);
    expect(conv.end()).toEqual([]);
    expect(conv.fail(new Error('late'))).toEqual([]);
  });

  it('produces a complete empty message when the upstream produced nothing but a finish', () => {
    const conv = new ChatChunksToAnthropicEvents(actx);
    const events = [...conv.push(chunk({}, 'stop')), ...conv.end()];
    expect(sequenceProblems(events)).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['message_start', 'message_delta', 'message_stop']);
  });

  it('frames every event with an event: line (the SDK drops unnamed ones)', () => {
    const sse = anthropicEventsToSse([{ type: 'message_stop' }, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }]);
    expect(sse).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
  });

  it('ends with an error event, after what came before it, when a chunk cannot be expressed', () => {
    const conv = new ChatChunksToAnthropicEvents(actx);
    const events = conv.push([chunk({ content: 'before' }), chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] })]);
    expect(events.map((e) => e.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'error']);
    expect(events.at(-1)).toEqual({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('without id or name') } });
    // The caller must record the request as failed: the client got an error, not a message.
    expect(conv.failure).toBeInstanceOf(DomainError);
    expect(conv.push(chunk({ content: 'after' }))).toEqual([]);
    expect(conv.end()).toEqual([]);
  });

  it('fails with the mapped Anthropic error type', () => {
    const conv = new ChatChunksToAnthropicEvents(actx);
    expect(conv.fail(new DomainError(ErrorCode.UpstreamTimeout, 'slow'))).toEqual([{ type: 'error', error: { type: 'timeout_error', message: 'slow' } }]);
    expect(conv.fail(new Error('again'))).toEqual([]);
  });
});
