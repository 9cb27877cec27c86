import OpenAI from 'openai';
import { costMicros, percentToBps, type ModelPrice } from '@gw/metering';
import type { TokenUsage } from '@gw/core';
import { ledgerSum } from './support/billing';
import { postChat, startTestApp, type TestApp } from './support/test-app';

/** Metering with a 20 % platform markup: the price of every token class, from the catalog. */
let t: TestApp;
const MARKUP = '20';

beforeAll(async () => {
  t = await startTestApp({ PLATFORM_MARKUP_PERCENT: MARKUP }, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  t.openai.reset().setDefaults({});
  t.anthropic.reset().setDefaults({});
});

async function funded(usd: number) {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, usd)).status).toBe(201);
  return { ...s, client: new OpenAI({ baseURL: `${t.url}/v1`, apiKey: s.apiKey, maxRetries: 0 }) };
}

async function priceOf(id: string): Promise<ModelPrice> {
  const m = await t.prisma.catalogModel.findUniqueOrThrow({ where: { id } });
  return { input: m.inputPrice, output: m.outputPrice, cacheRead: m.cacheReadPrice, cacheWrite: m.cacheWritePrice };
}

const usage = (u: Partial<TokenUsage>): TokenUsage => ({ promptTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 0, reasoningTokens: 0, ...u });
const usageRows = (tenantId: string) => t.prisma.ledgerEntry.findMany({ where: { tenantId, kind: { in: ['usage', 'byok_fee'] } } });

describe('cost per request', () => {
  it('prices input, cached input, cache writes, output and reasoning from the catalog with the markup, rounded once', async () => {
    const { client, tenantId } = await funded(2);
    const u = usage({ promptTokens: 12_345, cachedTokens: 3_000, cacheWriteTokens: 1_111, completionTokens: 777, reasoningTokens: 300 });
    t.anthropic.enqueue({ text: 'ok', promptTokens: u.promptTokens, cachedTokens: u.cachedTokens, cacheWriteTokens: u.cacheWriteTokens, completionTokens: u.completionTokens, reasoningTokens: u.reasoningTokens, thinking: 'x' });
    const r = await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4.5', messages: [{ role: 'user', content: 'price me' }] });
    const price = await priceOf('anthropic/claude-sonnet-4.5');
    const expected = costMicros(u, price, percentToBps(MARKUP));
    // By hand: ((12345-3000-1111)*3 + 3000*0.3 + 1111*3.75 + 777*15) USD/M * 1.2 = 49707.9, up to 49708 micros.
    expect(expected).toBe(49_708n);
    expect((r.usage as unknown as { cost: number }).cost).toBe(0.049708);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(2_000_000n - expected);
    await t.drain();
    expect((await usageRows(tenantId)).map((e) => [e.kind, e.amountMicros, e.idempotencyKey])).toEqual([['usage', -expected, `usage:${r.id}`]]);
    expect(await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId: r.id } })).toMatchObject({ cachedTokens: 3000, cacheWriteTokens: 1111, reasoningTokens: 300, costMicros: expected, estimated: false });
  });

  it('counts tokens locally and marks the record estimated when the upstream reports no usage', async () => {
    const { apiKey, tenantId } = await funded(1);
    t.openai.enqueue({ text: 'one two three four five six seven eight', deltas: 4, usage: 'none' });
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'count to eight' }] }),
    });
    const text = await res.text();
    expect(text).toContain('[DONE]');
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ estimated: true, status: 200 });
    expect(log.completionTokens).toBeGreaterThanOrEqual(8);
    expect(log.promptTokens).toBeGreaterThan(0);
    const expected = costMicros(usage({ promptTokens: log.promptTokens, completionTokens: log.completionTokens }), await priceOf('openai/gpt-4o-mini'), percentToBps(MARKUP));
    expect(log.costMicros).toBe(expected);
    expect((await usageRows(tenantId)).map((e) => e.amountMicros)).toEqual([-expected]);
    expect(await ledgerSum(t, tenantId)).toBe((await t.credits.getCredits(tenantId))!.balance);
  });

  const poster = (apiKey: string) => (body: object) => postChat(t, apiKey, body);

  it('counts a non-streamed answer that comes without usage and charges it, marked estimated', async () => {
    const { apiKey, tenantId } = await funded(1);
    const content = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
    const rawBody = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] });
    t.openai.enqueue({ rawBody });
    const res = await postChat(t, apiKey, { messages: [{ role: 'user', content: 'count to three hundred' }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { completion_tokens: number; cost: number } };
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 200, estimated: true });
    expect(log.completionTokens).toBeGreaterThanOrEqual(300);
    expect(log.completionTokens).toBeLessThan(1500);
    expect(log.promptTokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBe(log.completionTokens);
    expect(log.costMicros).toBe(costMicros(usage({ promptTokens: log.promptTokens, completionTokens: log.completionTokens }), await priceOf('openai/gpt-4o-mini'), percentToBps(MARKUP)));
    expect((await t.credits.getCredits(tenantId))!).toMatchObject({ balance: 1_000_000n - log.costMicros, reserved: 0n });
  });

  it('charges nothing for a failed request or an empty response', async () => {
    const { apiKey, tenantId } = await funded(1);
    const post = poster(apiKey);
    // Each failure comes twice: the gateway retries a retryable failure once before giving up.
    const empty = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [] });
    t.openai.enqueue({ status: 500, times: 2 }, { status: 503, times: 2 }, { rawBody: empty, times: 2 });
    const statuses = [(await post({})).status, (await post({})).status, (await post({})).status];
    expect(statuses.every((s) => s >= 500)).toBe(true);
    await t.drain();
    const logs = await t.prisma.requestLog.findMany({ where: { tenantId } });
    expect(logs.map((l) => [l.status >= 500, l.costMicros])).toEqual([[true, 0n], [true, 0n], [true, 0n]]);
    expect(await usageRows(tenantId)).toHaveLength(0);
    expect((await t.credits.getCredits(tenantId))!).toMatchObject({ balance: 1_000_000n, reserved: 0n });
  });

  it('charges nothing for a stream that fails before any content', async () => {
    const { apiKey, tenantId } = await funded(1);
    // Twice: a stream failing before its first content is retried once, like any failed attempt.
    t.openai.enqueue({ errorAfterEvents: 0, times: 2 });
    const res = await poster(apiKey)({ stream: true });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(await res.text()).not.toContain('[DONE]');
    await t.drain();
    expect((await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } })).costMicros).toBe(0n);
    expect(await usageRows(tenantId)).toHaveLength(0);
  });

  it('charges nothing for an Anthropic stream that fails after message_start (which already states usage) but before any content', async () => {
    const { apiKey, tenantId } = await funded(1);
    t.anthropic.enqueue({ errorAfterEvents: 1, errorType: 'overloaded_error', promptTokens: 20_000 }, { errorAfterEvents: 1, errorType: 'overloaded_error', promptTokens: 20_000 });
    const res = await poster(apiKey)({ stream: true, model: 'anthropic/claude-sonnet-4.5', max_tokens: 100 });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(await res.text()).not.toContain('[DONE]');
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log.status).toBeGreaterThanOrEqual(500);
    expect(log.costMicros).toBe(0n);
    expect(await usageRows(tenantId)).toHaveLength(0);
    expect((await t.credits.getCredits(tenantId))!).toMatchObject({ balance: 1_000_000n, reserved: 0n });
  });

  it('charges a client that disconnects mid-stream for what was generated, releases its hold, and ledgers it', async () => {
    const { apiKey, tenantId } = await funded(1);
    t.openai.enqueue({ text: Array.from({ length: 60 }, (_, i) => `token${i}`).join(' '), deltas: 60, chunkDelayMs: 20 });
    const ac = new AbortController();
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      signal: ac.signal,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go on' }] }),
    });
    const reader = res.body!.getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    const during = (await t.credits.getCredits(tenantId))!;
    expect(during.reserved).toBeGreaterThan(0n);
    ac.abort();
    for (let i = 0; i < 100 && (await t.credits.getCredits(tenantId))!.reserved !== 0n; i++) await new Promise((r) => setTimeout(r, 20));
    const after = (await t.credits.getCredits(tenantId))!;
    expect(after.reserved).toBe(0n);
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 499, estimated: true });
    expect(log.completionTokens).toBeGreaterThan(0);
    expect(log.completionTokens).toBeLessThan(60);
    expect(log.costMicros).toBeGreaterThan(0n);
    expect((await usageRows(tenantId)).map((e) => e.amountMicros)).toEqual([-log.costMicros]);
    expect(after.balance).toBe(1_000_000n - log.costMicros);
    expect(await ledgerSum(t, tenantId)).toBe(after.balance);
  });
});

describe('streams that end early, with usage stated up front', () => {
  // Anthropic's message_start states the input tokens and `output_tokens: 1`; the real output
  // count arrives only in the final message_delta. A stream that ends before it must still be
  // charged for the text it delivered, not for one output token.
  const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
  const anthropicStream = (apiKey: string, signal?: AbortSignal) =>
    fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      signal,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'anthropic/claude-sonnet-4.5', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'go on' }] }),
    });

  async function deliveredText(res: Response, chunks: number, ac?: AbortController): Promise<string> {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let raw = '';
    for (let i = 0; i < chunks; i++) {
      const r = await reader.read();
      if (r.done) break;
      raw += decoder.decode(r.value, { stream: true });
    }
    ac?.abort();
    let text = '';
    for (const line of raw.split('\n')) {
      if (!line.startsWith('data: {')) continue;
      const c = JSON.parse(line.slice(6)) as { choices?: { delta: { content?: string } }[] };
      text += c.choices?.[0]?.delta.content ?? '';
    }
    return text;
  }

  it('charges a client that leaves an Anthropic stream for the prompt stated and the text generated', async () => {
    const { apiKey, tenantId } = await funded(1);
    t.anthropic.enqueue({ text: words, deltas: 60, chunkDelayMs: 20, promptTokens: 500, completionTokens: 60 });
    const ac = new AbortController();
    const res = await anthropicStream(apiKey, ac.signal);
    const got = await deliveredText(res, 12, ac);
    expect(got.split(' ').filter(Boolean).length).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < 100 && (await t.credits.getCredits(tenantId))!.reserved !== 0n; i++) await new Promise((r) => setTimeout(r, 20));
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 499, promptTokens: 500, estimated: true });
    // At least the words the client received (each "wordN" is two or more tokens), fewer than all 60.
    expect(log.completionTokens).toBeGreaterThanOrEqual(got.split(' ').filter(Boolean).length);
    expect(log.completionTokens).toBeLessThan(200);
    expect(log.costMicros).toBe(costMicros(usage({ promptTokens: 500, completionTokens: log.completionTokens }), await priceOf('anthropic/claude-sonnet-4.5'), percentToBps(MARKUP)));
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(1_000_000n - log.costMicros);
  });

  it('keeps the final usage of a stream cut after it (Anthropic message_delta, then no message_stop)', async () => {
    const { apiKey, tenantId } = await funded(1);
    // message_start, content_block_start, 4 deltas, content_block_stop, message_delta: cut before message_stop.
    // The provider says 3 output tokens for 60 words: its figure is final, the local count is not used.
    t.anthropic.enqueue({ text: words, deltas: 4, promptTokens: 500, completionTokens: 3, cutAfterEvents: 8 });
    const res = await anthropicStream(apiKey);
    expect(res.status).toBe(200);
    expect((await deliveredText(res, 1000)).split(' ').filter(Boolean)).toHaveLength(60);
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 502, promptTokens: 500, completionTokens: 3, estimated: false });
    expect(log.costMicros).toBe(costMicros(usage({ promptTokens: 500, completionTokens: 3 }), await priceOf('anthropic/claude-sonnet-4.5'), percentToBps(MARKUP)));
  });

  it('charges an Anthropic stream cut by the provider for the text it delivered', async () => {
    const { apiKey, tenantId } = await funded(1);
    // message_start, content_block_start, then 30 of the 60 text deltas.
    t.anthropic.enqueue({ text: words, deltas: 60, promptTokens: 500, completionTokens: 60, cutAfterEvents: 32 });
    const res = await anthropicStream(apiKey);
    expect(res.status).toBe(200);
    const got = await deliveredText(res, 1000);
    expect(got.split(' ').filter(Boolean).length).toBe(30);
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 502, errorCode: 'stream_incomplete', promptTokens: 500, estimated: true });
    expect(log.completionTokens).toBeGreaterThanOrEqual(30);
    expect(log.completionTokens).toBeLessThan(120);
    expect((await t.credits.getCredits(tenantId))!).toMatchObject({ balance: 1_000_000n - log.costMicros, reserved: 0n });
  });
});
