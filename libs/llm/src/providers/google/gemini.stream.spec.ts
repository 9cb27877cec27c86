import { ErrorCode } from '@gw/core';
import type { ResponseContext } from '../../provider';
import { checkEverySplit, contentOf, runStream, toBytes, toolCallsOf } from '../../stream-conformance';
import { geminiAdapter } from './gemini.adapter';

const ctx: ResponseContext = { id: 'gen-s', model: 'google/gemini-2.5-flash', created: 1_760_000_000 };
const factory = () => geminiAdapter.createStreamTransformer(ctx);
/** The real API separates events with CRLF CRLF (wire-formats.md §3.7). */
const d = (obj: object, sep = '\r\n\r\n') => `data: ${JSON.stringify(obj)}${sep}`;
const cand = (parts: object[], extra: object = {}) => ({ candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }] });

const FULL_USAGE = { promptTokenCount: 120, cachedContentTokenCount: 64, toolUsePromptTokenCount: 6, candidatesTokenCount: 15, thoughtsTokenCount: 80, totalTokenCount: 221 };

/** Thoughts, text, a whole function call with its signature, then a separate STOP chunk (envoyproxy/ai-gateway#2399). */
const TOOL_STREAM =
  d({ ...cand([{ text: 'Need weather.', thought: true }]), usageMetadata: { trafficType: 'ON_DEMAND' } }) +
  d({ ...cand([{ text: 'Checking ' }]), usageMetadata: { promptTokenCount: 120, totalTokenCount: 120 } }) +
  d({ ...cand([{ text: 'Lyon ☀️.' }]), usageMetadata: { promptTokenCount: 120, totalTokenCount: 120 } }, '\n\n') +
  d(cand([{ functionCall: { name: 'get_weather', args: { city: 'Lyon' } }, thoughtSignature: 'CsYB' }, { functionCall: { name: 'get_time', args: {}, id: 'fc-2' } }])) +
  d({ ...cand([{ text: '' }], { finishReason: 'STOP' }), usageMetadata: FULL_USAGE });

describe('Gemini stream transformer', () => {
  it('translates thoughts, text, whole tool calls and the trailing STOP identically at every split', () => {
    const { reference, mismatches } = checkEverySplit(factory, TOOL_STREAM);
    expect(mismatches).toEqual([]);
    expect(reference.error).toBeUndefined();
    const deltas = reference.chunks.map((c) => c.choices[0].delta);
    expect(deltas[0]).toEqual({ role: 'assistant', content: '' });
    expect(deltas[1]).toEqual({ reasoning: 'Need weather.' });
    expect(contentOf(reference.chunks)).toBe('Checking Lyon ☀️.');
    // Each call goes out whole in one delta, with its signature beside it.
    expect(deltas[4]).toEqual({
      tool_calls: [{ index: 0, id: 'call_gw_gen-s_0_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }],
      reasoning_details: [{ type: 'reasoning.encrypted', data: 'CsYB', format: 'google-gemini-v1', id: 'call_gw_gen-s_0_0', index: 0 }],
    });
    expect(toolCallsOf(reference.chunks)).toEqual([
      { id: 'call_gw_gen-s_0_0', name: 'get_weather', arguments: '{"city":"Lyon"}' },
      { id: 'fc-2', name: 'get_time', arguments: '{}' },
    ]);
    // STOP after a functionCall seen in an earlier chunk is tool_calls (wire-formats.md rule 6).
    expect(reference.chunks.at(-1)?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'tool_calls' });
    for (const c of reference.chunks) expect(c).toMatchObject({ id: 'gen-s', model: 'google/gemini-2.5-flash', created: 1_760_000_000, object: 'chat.completion.chunk' });
    // The last usageMetadata wins; early partial usage never counts.
    expect(reference.usage).toEqual({ promptTokens: 126, cachedTokens: 64, cacheWriteTokens: 0, completionTokens: 95, reasoningTokens: 80 });
    expect(reference.finished).toBe(true);
  });

  it('ends text answers with stop and keeps a text signature', () => {
    const s = d(cand([{ text: 'Hi' }])) + d({ ...cand([{ text: ' there', thoughtSignature: 'T1' }], { finishReason: 'STOP' }), usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 } });
    const { reference, mismatches } = checkEverySplit(factory, s);
    expect(mismatches).toEqual([]);
    expect(contentOf(reference.chunks)).toBe('Hi there');
    expect(reference.chunks[2].choices[0].delta).toEqual({ content: ' there', reasoning_details: [{ type: 'reasoning.encrypted', data: 'T1', format: 'google-gemini-v1', id: null, index: 0 }] });
    expect(reference.chunks.at(-1)?.choices[0].finish_reason).toBe('stop');
    expect(reference.usage?.completionTokens).toBe(2);
  });

  it.each([
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['OTHER', 'stop'],
  ])('maps finishReason %s to %s', (reason, expected) => {
    const r = runStream(factory(), [toBytes(d(cand([{ text: 'x' }], { finishReason: reason })))]);
    expect(r.chunks.at(-1)?.choices[0].finish_reason).toBe(expected);
    expect(r.finished).toBe(true);
  });

  it('treats EOF without a finishReason as truncation (StreamIncomplete), never as stop', () => {
    const s = d({ ...cand([{ text: 'partial' }]), usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } });
    const { reference, mismatches } = checkEverySplit(factory, s);
    expect(mismatches).toEqual([]);
    expect(contentOf(reference.chunks)).toBe('partial');
    expect(reference.error).toEqual({ code: ErrorCode.StreamIncomplete, message: expect.any(String), retryable: false });
    expect(reference.finished).toBe(false);
    expect(reference.usage?.promptTokens).toBe(9);
    expect(runStream(factory(), []).error).toMatchObject({ code: ErrorCode.StreamIncomplete, retryable: true });
  });

  it('throws an in-stream error after the chunks before it; before any output it is retryable', () => {
    const err = d({ error: { code: 429, message: 'Resource exhausted', status: 'RESOURCE_EXHAUSTED' } });
    const after = checkEverySplit(factory, d(cand([{ text: 'a' }])) + err);
    expect(after.mismatches).toEqual([]);
    expect(after.reference.chunks).toHaveLength(2);
    expect(after.reference.error).toMatchObject({ code: ErrorCode.UpstreamRateLimited, retryable: false });
    expect(runStream(factory(), [toBytes(err)]).error).toMatchObject({ code: ErrorCode.UpstreamRateLimited, retryable: true });
  });

  it('reports malformed JSON as StreamIncomplete', () => {
    const r = runStream(factory(), [toBytes(d(cand([{ text: 'a' }])) + 'data: {"candidates":[{"content":\r\n\r\n')]);
    expect(r.error).toMatchObject({ code: ErrorCode.StreamIncomplete, retryable: false });
  });

  it('finishes a blocked prompt with content_filter', () => {
    const r = runStream(factory(), [toBytes(d({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 } }))]);
    expect(r.error).toBeUndefined();
    expect(r.chunks.map((c) => c.choices[0])).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
      { index: 0, delta: {}, finish_reason: 'content_filter' },
    ]);
  });

  it('with n candidates asked for: a cut before one began is incomplete, and a blocked prompt finishes them all', () => {
    const one = d({ candidates: [{ index: 0, content: { parts: [{ text: 'A' }] }, finishReason: 'STOP' }] });
    const two = { ...ctx, choices: 2 };
    expect(runStream(geminiAdapter.createStreamTransformer(two), [toBytes(one)])).toMatchObject({ error: { code: ErrorCode.StreamIncomplete }, finished: false });
    expect(runStream(factory(), [toBytes(one)]).error).toBeUndefined();
    const blocked = runStream(geminiAdapter.createStreamTransformer(two), [toBytes(d({ promptFeedback: { blockReason: 'SAFETY' } }))]);
    expect(blocked.error).toBeUndefined();
    expect(blocked.chunks.flatMap((c) => c.choices.filter((ch) => ch.finish_reason !== null).map((ch) => [ch.index, ch.finish_reason]))).toEqual([
      [0, 'content_filter'],
      [1, 'content_filter'],
    ]);
  });

  it('ends a candidate on FINISH_REASON_UNSPECIFIED with stop, as a non-streamed answer does', () => {
    const r = runStream(factory(), [toBytes(d(cand([{ text: 'Hi' }], { finishReason: 'FINISH_REASON_UNSPECIFIED' })))]);
    expect(r.error).toBeUndefined();
    expect(r.chunks.at(-1)?.choices[0].finish_reason).toBe('stop');
  });

  it('turns a failed tool call before any output into a retryable error', () => {
    const r = runStream(factory(), [toBytes(d(cand([], { finishReason: 'MALFORMED_FUNCTION_CALL' })))]);
    expect(r.chunks).toEqual([]);
    expect(r.error).toMatchObject({ code: ErrorCode.UpstreamBadResponse, retryable: true });
  });

  it('translates several candidates into choices with their own finish and tool counters', () => {
    const s =
      d({ candidates: [{ index: 0, content: { parts: [{ text: 'A' }] } }, { index: 1, content: { parts: [{ functionCall: { name: 'f', args: {} } }] } }] }) +
      d({ candidates: [{ index: 0, content: { parts: [{ text: '!' }] }, finishReason: 'STOP' }] }) +
      d({ candidates: [{ index: 1, content: { parts: [{ text: '' }] }, finishReason: 'STOP' }] });
    const { reference, mismatches } = checkEverySplit(factory, s);
    expect(mismatches).toEqual([]);
    const finishes = reference.chunks.flatMap((c) => c.choices.filter((ch) => ch.finish_reason !== null).map((ch) => [ch.index, ch.finish_reason]));
    expect(finishes).toEqual([
      [0, 'stop'],
      [1, 'tool_calls'],
    ]);
    const call = reference.chunks.flatMap((c) => c.choices.filter((ch) => ch.index === 1).flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(call).toEqual([{ index: 0, id: 'call_gw_gen-s_1_0', type: 'function', function: { name: 'f', arguments: '{}' } }]);
    expect(reference.finished).toBe(true);
  });

  it('attaches logprobs to the content chunk', () => {
    const s = d(cand([{ text: 'a' }], { finishReason: 'STOP', logprobsResult: { chosenCandidates: [{ token: 'a', logProbability: -0.5 }] } }));
    const r = runStream(factory(), [toBytes(s)]);
    expect(r.chunks[1].choices[0]).toMatchObject({ delta: { content: 'a' }, logprobs: { content: [{ token: 'a', logprob: -0.5 }] } });
  });
});
