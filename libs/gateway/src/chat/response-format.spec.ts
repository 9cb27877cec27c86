import type { TokenUsage } from '@gw/core';
import type { ChatCompletion, ChatCompletionChunk } from '@gw/llm';
import { OpenAiFormat } from './response-format';

const ctx = { id: 'gen-1', model: 'anthropic/claude-sonnet-4.5', created: 1_700_000_000, provider: 'anthropic' };
const usage: TokenUsage = { promptTokens: 10, completionTokens: 20, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 12 };
const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => ({
  id: 'gen-1',
  object: 'chat.completion.chunk',
  created: ctx.created,
  model: ctx.model,
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const events = (sse: string) =>
  sse
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice(6)) as Record<string, unknown> & { choices: { delta: Record<string, unknown>; finish_reason: string | null }[] });
const stream = () => [
  chunk({ role: 'assistant', content: '' }),
  chunk({ reasoning: 'Let me think', reasoning_details: [{ type: 'reasoning.text', text: 'Let me think' }] }),
  chunk({ reasoning_details: [{ type: 'reasoning.text', signature: 'sig' }] }),
  chunk({ content: 'Hi' }),
  chunk({}, 'stop'),
];

describe('OpenAiFormat stream: stream_options.include_usage', () => {
  it('puts usage: null on every chunk but the final usage chunk', () => {
    const w = new OpenAiFormat({ includeUsage: true }).stream(ctx);
    const all = events(w.chunks(stream(), undefined) + w.done(usage, 1500n));
    expect(all.slice(0, -1).map((c) => c.usage)).toEqual([null, null, null, null, null]);
    expect(all.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 20 } });
    expect(events(w.error(new Error('cut')))[0]).toHaveProperty('usage', null);
  });

  it('adds no usage field when it was not asked for', () => {
    const w = new OpenAiFormat().stream(ctx);
    const all = events(w.chunks(stream(), undefined) + w.done(usage, 1500n));
    for (const c of all) expect(c).not.toHaveProperty('usage');
  });
});

describe('OpenAiFormat: reasoning.exclude', () => {
  it('streams no reasoning: reasoning-only chunks are left out, the others lose their reasoning fields', () => {
    const w = new OpenAiFormat({ includeUsage: true, excludeReasoning: true }).stream(ctx);
    const all = events(w.chunks(stream(), undefined) + w.done(usage, 1500n));
    // The signed detail stays, without text: a tool loop must echo it (Claude's thinking, Gemini's signatures).
    expect(all.map((c) => c.choices[0]?.delta)).toEqual([{ role: 'assistant', content: '' }, { reasoning_details: [{ type: 'reasoning.text', signature: 'sig', text: '' }] }, { content: 'Hi' }, {}, undefined]);
    // The reasoning was generated: its tokens stay in the usage the client is billed for.
    expect(all.at(-1)).toMatchObject({ usage: { completion_tokens: 20, completion_tokens_details: { reasoning_tokens: 12 } } });
  });

  it("keeps Gemini's thought signatures (encrypted details) a tool loop must echo, and drops readable ones", () => {
    const w = new OpenAiFormat({ excludeReasoning: true }).stream(ctx);
    const sig = { type: 'reasoning.encrypted' as const, data: 'SIG123', format: 'google-gemini-v1', id: 'call_1' };
    const all = events(w.chunks([chunk({ reasoning: 'plan', reasoning_details: [{ type: 'reasoning.text', text: 'plan' }, sig] }), chunk({ reasoning_details: [{ type: 'reasoning.summary', summary: 's' }] })], undefined));
    expect(all.map((c) => c.choices[0].delta)).toEqual([{ reasoning_details: [sig] }]);
  });

  it('keeps a chunk whose reasoning came with content or a finish', () => {
    const w = new OpenAiFormat({ excludeReasoning: true }).stream(ctx);
    const all = events(w.chunks([chunk({ reasoning: 'r', content: 'c' }), chunk({ reasoning: 'r' }, 'stop')], undefined));
    expect(all.map((c) => [c.choices[0].delta, c.choices[0].finish_reason])).toEqual([
      [{ content: 'c' }, null],
      [{}, 'stop'],
    ]);
  });

  it('answers without reasoning, billed as generated', () => {
    const completion: ChatCompletion = {
      id: 'gen-1',
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi', reasoning: 'Let me think', reasoning_details: [{ type: 'reasoning.text', text: 'Let me think', signature: 's' }] }, finish_reason: 'stop' }],
    };
    const out = new OpenAiFormat({ excludeReasoning: true }).body(completion, usage, 1500n, 'anthropic') as ChatCompletion;
    expect(out.choices[0].message).toEqual({ role: 'assistant', content: 'Hi', reasoning_details: [{ type: 'reasoning.text', text: '', signature: 's' }] });
    expect(out.usage).toMatchObject({ completion_tokens_details: { reasoning_tokens: 12 } });
    expect(completion.choices[0].message.reasoning).toBe('Let me think');
    expect((new OpenAiFormat().body(completion, usage, 1500n, 'anthropic') as ChatCompletion).choices[0].message.reasoning).toBe('Let me think');
  });
});
