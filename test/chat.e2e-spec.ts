import OpenAI from 'openai';
import { costMicros, promptTokenBound, worstCaseMicros } from '@gw/metering';
import { startTestApp, type TestApp } from './support/test-app';
import { Reservations } from '../libs/gateway/src/chat/reservation';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
});
afterEach(() => {
  t.openai.reset().setDefaults({});
  t.anthropic.reset();
});

async function tenantWith(usd: number) {
  const s = await t.signup();
  if (usd) expect((await t.grant(s.tenantId, usd)).status).toBe(201);
  const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: s.apiKey, maxRetries: 0 });
  return { ...s, client };
}

async function catalogPrice(id: string) {
  const m = await t.prisma.catalogModel.findUniqueOrThrow({ where: { id } });
  return { input: m.inputPrice, output: m.outputPrice, cacheRead: m.cacheReadPrice, cacheWrite: m.cacheWritePrice, cacheWrite1h: m.cacheWrite1hPrice };
}

async function ledgerSum(tenantId: string): Promise<bigint> {
  const rows = await t.prisma.ledgerEntry.findMany({ where: { tenantId } });
  return rows.reduce((a, r) => a + r.amountMicros, 0n);
}

describe('POST /v1/chat/completions through the OpenAI SDK', () => {
  it('serves a non-streaming request and charges exactly its usage', async () => {
    const { client, tenantId } = await tenantWith(1);
    t.openai.enqueue({ text: 'The answer is 42.', promptTokens: 1200, cachedTokens: 200, completionTokens: 50, reasoningTokens: 10 });
    const r = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'What is the answer?' }] });
    expect(r.choices[0].message.content).toBe('The answer is 42.');
    expect(r.model).toBe('openai/gpt-4o-mini');
    expect((r as unknown as { provider: string }).provider).toBe('openai');
    const price = await catalogPrice('openai/gpt-4o-mini');
    const expected = costMicros({ promptTokens: 1200, cachedTokens: 200, cacheWriteTokens: 0, completionTokens: 50, reasoningTokens: 10 }, price, 0n);
    expect(r.usage).toMatchObject({ prompt_tokens: 1200, completion_tokens: 50, total_tokens: 1250, prompt_tokens_details: { cached_tokens: 200 }, completion_tokens_details: { reasoning_tokens: 10 } });
    expect((r.usage as unknown as { cost: number }).cost).toBe(Number(expected) / 1e6);
    // The upstream got the platform key and the upstream model id, never the gateway extras.
    const sent = t.openai.lastRequest()!;
    expect(sent.headers.authorization).toBe('Bearer sk-platform-openai');
    expect((sent.body as { model: string }).model).toBe('gpt-4o-mini');

    const credits = await t.credits.getCredits(tenantId);
    expect(credits!.balance).toBe(1_000_000n - expected);
    expect(credits!.reserved).toBe(0n);
    await t.drain();
    expect(await ledgerSum(tenantId)).toBe(1_000_000n - expected);
    const usage = await t.prisma.ledgerEntry.findMany({ where: { tenantId, kind: 'usage' } });
    expect(usage).toHaveLength(1);
    expect(usage[0].idempotencyKey).toBe(`usage:${r.id}`);
    const log = await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId: r.id } });
    expect(log).toMatchObject({ tenantId, status: 200, servedModel: 'openai/gpt-4o-mini', provider: 'openai', promptTokens: 1200, cachedTokens: 200, completionTokens: 50, reasoningTokens: 10, costMicros: expected, stream: false });
  });

  it('streams, ends with a usage chunk when asked, and charges the streamed usage', async () => {
    const { client, tenantId, apiKey } = await tenantWith(1);
    t.openai.enqueue({ text: 'one two three four five six', deltas: 3, promptTokens: 30, completionTokens: 6 });
    const stream = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'count' }],
    });
    let text = '';
    let usage: (OpenAI.CompletionUsage & { cost?: number }) | undefined;
    let id = '';
    for await (const chunk of stream) {
      id = chunk.id;
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('one two three four five six');
    const price = await catalogPrice('openai/gpt-4o-mini');
    const expected = costMicros({ promptTokens: 30, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 6, reasoningTokens: 0 }, price, 0n);
    expect(usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 6 });
    expect(usage!.cost).toBe(Number(expected) / 1e6);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(1_000_000n - expected);

    const credits = await fetch(`${t.url}/v1/credits`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(await credits.json()).toEqual({ data: { total_credits: 1, total_usage: Number(expected) / 1e6, balance: (1_000_000 - Number(expected)) / 1e6, reserved: 0 } });
    await t.drain();
    const gen = await fetch(`${t.url}/v1/generation?id=${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(gen.status).toBe(200);
    expect(((await gen.json()) as { data: unknown }).data).toMatchObject({ id, model: 'openai/gpt-4o-mini', provider: 'openai', streamed: true, tokens_prompt: 30, tokens_completion: 6, cost: Number(expected) / 1e6 });
  });

  it('translates to an Anthropic upstream both ways, stream and not, with cache usage', async () => {
    const { client, tenantId } = await tenantWith(1);
    t.anthropic.enqueue({ text: 'Bonjour le monde', promptTokens: 500, cachedTokens: 300, cacheWriteTokens: 100, completionTokens: 7 });
    const r = await client.chat.completions.create({
      model: 'anthropic/claude-sonnet-4.5',
      messages: [{ role: 'system', content: 'Answer in French.' }, { role: 'user', content: 'Hello world' }],
    });
    expect(r.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Bonjour le monde' }, finish_reason: 'stop' });
    const sent = t.anthropic.lastRequest()!;
    expect(sent.headers['x-api-key']).toBe('sk-platform-anthropic');
    expect(sent.body).toMatchObject({ model: 'claude-sonnet-4-5', system: [{ type: 'text', text: 'Answer in French.' }], messages: [{ role: 'user' }] });
    expect((sent.body as { max_tokens: number }).max_tokens).toBe(64000);
    const price = await catalogPrice('anthropic/claude-sonnet-4.5');
    const u = { promptTokens: 500, cachedTokens: 300, cacheWriteTokens: 100, completionTokens: 7, reasoningTokens: 0 };
    expect(r.usage).toMatchObject({ prompt_tokens: 500, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 300 } });
    const first = costMicros(u, price, 0n);

    t.anthropic.enqueue({ text: 'a b c d', deltas: 4, promptTokens: 20, completionTokens: 4 });
    const stream = await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4.5', stream: true, messages: [{ role: 'user', content: 'abc' }] });
    let text = '';
    let finish: string | null = null;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('a b c d');
    expect(finish).toBe('stop');
    const second = costMicros({ promptTokens: 20, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 4, reasoningTokens: 0 }, price, 0n);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(1_000_000n - first - second);
  });

  it('bills Anthropic hour-long cache writes at their own price, and shows them in the log', async () => {
    const { client, tenantId, apiKey } = await tenantWith(1);
    t.anthropic.enqueue({ text: 'Cached', promptTokens: 5000, cacheWriteTokens: 4000, cacheWrite1hTokens: 3000, completionTokens: 2 });
    const r = await client.chat.completions.create({
      model: 'anthropic/claude-sonnet-4.5',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'A long context', cache_control: { type: 'ephemeral', ttl: '1h' } } as never] }],
    });
    expect((t.anthropic.lastRequest()!.body as { messages: { content: unknown[] }[] }).messages[0].content[0]).toMatchObject({ cache_control: { type: 'ephemeral', ttl: '1h' } });
    const price = await catalogPrice('anthropic/claude-sonnet-4.5');
    expect(price.cacheWrite1h).toBe(6_000_000n); // 2x input, Anthropic's price for hour-long writes
    // 1000 uncached x 3 + 1000 5-minute writes x 3.75 + 3000 hour-long writes x 6 + 2 out x 15
    const u = { promptTokens: 5000, cachedTokens: 0, cacheWriteTokens: 4000, cacheWrite1hTokens: 3000, completionTokens: 2, reasoningTokens: 0 };
    const cost = costMicros(u, price, 0n);
    expect(cost).toBe(24_780n);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(1_000_000n - cost);
    await t.drain();
    const log = await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId: r.id } });
    expect(log).toMatchObject({ cacheWriteTokens: 4000, cacheWrite1hTokens: 3000, costMicros: cost });
    const gen = (await (await fetch(`${t.url}/v1/generation?id=${r.id}`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { data: Record<string, unknown> };
    expect(gen.data).toMatchObject({ tokens_cache_write: 4000, tokens_cache_write_1h: 3000 });
  });
});

describe('money rules', () => {
  it('answers 402 in OpenAI shape, saying what the balance affords, and charges nothing', async () => {
    const { client, tenantId } = await tenantWith(0.001);
    const err = await client.chat.completions
      .create({ model: 'openai/gpt-4o', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(402);
    expect(err.error).toMatchObject({ type: 'insufficient_quota', code: 'request_exceeds_budget' });
    expect(err.message).toMatch(/affords \d+ output tokens/);
    expect(t.openai.requests).toHaveLength(0);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(1000n);
  });

  it('charges nothing for a failed request and records it', async () => {
    const { client, tenantId } = await tenantWith(1);
    t.openai.enqueue({ status: 400, errorMessage: 'bad thing' });
    const err = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(err.status).toBe(400);
    const c = await t.credits.getCredits(tenantId);
    expect(c).toMatchObject({ balance: 1_000_000n, reserved: 0n });
    await t.drain();
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId, kind: 'usage' } })).toBe(0);
    expect(await t.prisma.requestLog.count({ where: { tenantId, status: 400 } })).toBe(1);
  });

  it('serves exactly as many concurrent requests as the balance can hold (all in flight together)', async () => {
    const { apiKey, tenantId } = await tenantWith(1);
    t.openai.setDefaults({ headerDelayMs: 400, completionTokens: 5, promptTokens: 5 });
    const body = { model: 'openai/gpt-4o', max_tokens: 9900, messages: [{ role: 'user', content: 'hello' }] };
    const text = JSON.stringify(body);
    const worst = worstCaseMicros(promptTokenBound(Buffer.byteLength(text), 1, 0, 1), 9900, await catalogPrice('openai/gpt-4o'), 0n);
    expect(1_000_000n / worst).toBe(10n);
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: text }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 402)).toHaveLength(40);
    await Promise.all(results.map((r) => r.text()));
    await t.drain();
    const c = (await t.credits.getCredits(tenantId))!;
    expect(c.reserved).toBe(0n);
    expect(c.balance).toBeGreaterThanOrEqual(0n);
    expect(await ledgerSum(tenantId)).toBe(c.balance);
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId, kind: 'usage' } })).toBe(10);
  });

  it('charges a client that disconnects mid-stream for what was generated and releases its hold', async () => {
    const { apiKey, tenantId } = await tenantWith(1);
    t.openai.enqueue({ text: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '), deltas: 40, chunkDelayMs: 30 });
    const ac = new AbortController();
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      signal: ac.signal,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    ac.abort();
    await t.openai.waitForRequests(1);
    for (let i = 0; i < 50 && (await t.credits.getCredits(tenantId))!.reserved !== 0n; i++) await new Promise((r) => setTimeout(r, 50));
    const c = (await t.credits.getCredits(tenantId))!;
    expect(c.reserved).toBe(0n);
    expect(c.balance).toBeLessThan(1_000_000n);
    expect(t.openai.lastRequest()!.clientAborted).toBe(true);
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 499, estimated: true });
    expect(log.completionTokens).toBeGreaterThan(0);
    expect(log.completionTokens).toBeLessThan(40);
  });

  it('charges a client that leaves a stream before its first byte for the prompt, one that leaves a non-streamed call for the answer; leaving during a retry wait costs nothing', async () => {
    const { apiKey, tenantId } = await tenantWith(1);
    const price = await catalogPrice('openai/gpt-4o-mini');
    const leave = async (body: object, afterMs: number) => {
      const ac = new AbortController();
      const sent = fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        signal: ac.signal,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Tell me a long story about the sea and its ships.' }], ...body }),
      }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, afterMs));
      ac.abort();
      await sent;
      for (let i = 0; i < 200 && (await t.credits.getCredits(tenantId))!.reserved !== 0n; i++) await new Promise((r) => setTimeout(r, 20));
      expect((await t.credits.getCredits(tenantId))!.reserved).toBe(0n);
    };

    // A non-streamed call 300 ms into a 1.5 s wait for the answer: the answer is still read and
    // charged in full (the provider generates and bills it anyway), the upstream not cut.
    t.openai.enqueue({ headerDelayMs: 1500, promptTokens: 40, completionTokens: 300 });
    await leave({}, 300);
    expect(t.openai.lastRequest()!.clientAborted).toBe(false);
    // A stream before its first byte: cut, the prompt charged.
    t.openai.enqueue({ headerDelayMs: 3000 });
    await leave({ stream: true }, 300);
    expect(t.openai.lastRequest()!.clientAborted).toBe(true);
    // A provider failing with Retry-After: 3, the client leaving during the wait: no prompt is with a provider.
    t.openai.enqueue({ status: 503, retryAfter: 3 });
    await leave({}, 300);
    expect(t.openai.requests).toHaveLength(3);
    // The client gone while its hold was being taken: the upstream call never starts, nothing is charged.
    const reservations = t.app.get(Reservations);
    const hold = reservations.hold.bind(reservations);
    reservations.hold = async (h) => {
      const stop = await hold(h);
      await new Promise((r) => setTimeout(r, 400));
      return stop;
    };
    try {
      await leave({}, 150);
    } finally {
      reservations.hold = hold;
    }
    expect(t.openai.requests).toHaveLength(3);

    await t.drain();
    const logs = await t.prisma.requestLog.findMany({ where: { tenantId }, orderBy: { createdAt: 'asc' } });
    expect(logs.map((l) => [l.status, l.errorCode, l.stream, l.estimated])).toEqual([
      [499, 'client_closed_request', false, false],
      [499, 'client_closed_request', true, true],
      [499, 'client_closed_request', false, false],
      [499, 'client_closed_request', false, false],
    ]);
    expect([logs[0].promptTokens, logs[0].completionTokens]).toEqual([40, 300]);
    expect(logs[0].costMicros).toBe(costMicros({ promptTokens: 40, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 300, reasoningTokens: 0 }, price, 0n));
    expect(logs[1].promptTokens).toBeGreaterThan(10);
    expect(logs[1].completionTokens).toBe(0);
    expect(logs[1].costMicros).toBe(costMicros({ promptTokens: logs[1].promptTokens, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 0, reasoningTokens: 0 }, price, 0n));
    expect(logs[1].costMicros).toBeGreaterThan(0n);
    expect(logs[2].costMicros).toBe(0n);
    expect(logs[3].costMicros).toBe(0n);
    const spent = logs[0].costMicros + logs[1].costMicros;
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(1_000_000n - spent);
    expect(await ledgerSum(tenantId)).toBe(1_000_000n - spent);
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId, kind: 'usage' } })).toBe(2);
  });

  it("still cuts a non-streamed call whose client left at the request's total timeout, charging the prompt", async () => {
    const { apiKey, tenantId } = await tenantWith(1);
    t.openai.enqueue({ headerDelayMs: 5000 });
    const ac = new AbortController();
    const started = Date.now();
    const sent = fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      signal: ac.signal,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-gateway-total-timeout-ms': '900' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Tell me a long story.' }] }),
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    await sent;
    await waitUntil(() => t.openai.lastRequest()?.closedAt !== undefined, 4000);
    expect(t.openai.lastRequest()!.clientAborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 499, estimated: true, completionTokens: 0 });
  });

  it('answers a tenant that just signed up, without credits, 402 at once (its zero balance is in Redis from sign-up)', async () => {
    const { client } = await tenantWith(0);
    const err = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect([(err as InstanceType<typeof OpenAI.APIError>).status, (err as InstanceType<typeof OpenAI.APIError>).code]).toEqual([402, 'insufficient_credits']);
  });

  it('turns a stream cut after the first byte into a final error event, never [DONE]', async () => {
    const { apiKey } = await tenantWith(1);
    t.openai.enqueue({ text: 'a b c d e f g h', deltas: 8, cutAfterEvents: 3 });
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] }),
    });
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(body).not.toContain('[DONE]');
    const last = body.trim().split('\n\n').pop()!;
    expect(JSON.parse(last.slice(6))).toMatchObject({ object: 'chat.completion.chunk', model: 'openai/gpt-4o-mini', error: { code: 'stream_incomplete' }, choices: [{ index: 0, delta: {}, finish_reason: 'error' }] });
  });
});

describe('a stream that stalls mid-way with only keep-alives (reliability T19)', () => {
  for (const [provider, model] of [['openai', 'openai/gpt-4o-mini'], ['anthropic', 'anthropic/claude-haiku-4.5']] as const) {
    it(`is ended at the idle timeout with an error event, the upstream closed and what was delivered charged (${provider})`, async () => {
      const { apiKey, tenantId } = await tenantWith(1);
      const fake = provider === 'openai' ? t.openai : t.anthropic;
      // Three events (the first three words among them), then a keep-alive every 100 ms and nothing else.
      fake.enqueue({ text: 'alpha beta gamma delta epsilon zeta', deltas: 2, cutAfterEvents: 3, cutMode: 'keep-alive', keepAliveMs: 100 });
      const started = Date.now();
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-gateway-idle-timeout-ms': '600' },
        body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'go' }] }),
      });
      expect(res.status).toBe(200);
      const body = await res.text();
      const elapsed = Date.now() - started;
      // The keep-alives kept the connection's byte-level idle timer at bay; content did not come.
      expect(elapsed).toBeGreaterThanOrEqual(550);
      expect(elapsed).toBeLessThan(3000);
      expect(body).toContain('alpha beta gamma');
      expect(body).not.toContain('[DONE]');
      const last = body.trim().split('\n\n').pop()!;
      expect(JSON.parse(last.slice(6))).toMatchObject({ error: { code: 'stream_idle_timeout' }, choices: [{ finish_reason: 'error' }] });
      await waitUntil(() => fake.lastRequest()!.closedAt !== undefined);
      expect(fake.lastRequest()!.clientAborted).toBe(true);
      const c = (await t.credits.getCredits(tenantId))!;
      expect(c.reserved).toBe(0n);
      expect(c.balance).toBeLessThan(1_000_000n);
      await t.drain();
      const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
      // Counted locally (the provider never gave the output count): the three words delivered.
      expect(log).toMatchObject({ status: 502, errorCode: 'stream_idle_timeout', estimated: true });
      expect(log.completionTokens).toBeGreaterThanOrEqual(3);
      expect(await ledgerSum(tenantId)).toBe(c.balance);
    });

    it(`lets a stream run longer than the idle timeout while content keeps coming, reasoning included (${provider})`, async () => {
      const { apiKey } = await tenantWith(1);
      const fake = provider === 'openai' ? t.openai : t.anthropic;
      // 5 reasoning and 5 text deltas among the other events, 100 ms apart: 1.2–1.8 s in all against a 600 ms idle timeout.
      fake.enqueue({ thinking: 'one two three four five', text: 'a b c d e', deltas: 5, chunkDelayMs: 100, pings: true });
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-gateway-idle-timeout-ms': '600' },
        body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'go' }] }),
      });
      const started = Date.now();
      const body = await res.text();
      expect(Date.now() - started).toBeGreaterThan(650);
      expect(body).not.toContain('"error"');
      expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    });

    it(`ends a finished stream whose upstream keeps it open with keep-alives, charged the provider's usage (${provider})`, async () => {
      const { apiKey, tenantId } = await tenantWith(1);
      const fake = provider === 'openai' ? t.openai : t.anthropic;
      // The whole stream, terminal event and usage included, then keep-alives and no end of the body.
      fake.enqueue({ text: 'alpha beta gamma', deltas: 3, cutAfterEvents: 99, cutMode: 'keep-alive', keepAliveMs: 100 });
      const started = Date.now();
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-gateway-idle-timeout-ms': '600' },
        body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'go' }] }),
      });
      const body = await res.text();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(body).not.toContain('"error"');
      expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
      await waitUntil(() => fake.lastRequest()!.closedAt !== undefined);
      expect(fake.lastRequest()!.clientAborted).toBe(true);
      await t.drain();
      const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
      expect(log).toMatchObject({ status: 200, estimated: false, finishReason: 'stop' });
      expect(log.completionTokens).toBeGreaterThan(0);
      const c = (await t.credits.getCredits(tenantId))!;
      expect(c.reserved).toBe(0n);
      expect(await ledgerSum(tenantId)).toBe(c.balance);
    });
  }

  it('ends a finished stream that never sends its usage or [DONE], the usage counted locally', async () => {
    const { apiKey, tenantId } = await tenantWith(1);
    t.openai.enqueue({ text: 'alpha beta gamma', deltas: 3, usage: 'none', omitDone: true, cutAfterEvents: 99, cutMode: 'keep-alive', keepAliveMs: 100 });
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-gateway-idle-timeout-ms': '600' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] }),
    });
    const body = await res.text();
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const events = body.trim().split('\n\n').map((e) => e.slice(6));
    const usage = JSON.parse(events[events.length - 2]!) as { usage: { completion_tokens: number } };
    expect(usage.usage.completion_tokens).toBeGreaterThanOrEqual(3);
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 200, estimated: true });
    expect(await ledgerSum(tenantId)).toBe((await t.credits.getCredits(tenantId))!.balance);
  });

  it('ends an Anthropic-format stream (/v1/messages) with its own error event', async () => {
    const { apiKey } = await tenantWith(1);
    t.anthropic.enqueue({ text: 'alpha beta gamma delta epsilon zeta', deltas: 2, cutAfterEvents: 3, cutMode: 'keep-alive', keepAliveMs: 100 });
    const res = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json', 'x-gateway-idle-timeout-ms': '600' },
      body: JSON.stringify({ model: 'anthropic/claude-haiku-4.5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'go' }] }),
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('alpha beta gamma');
    expect(body).not.toContain('message_stop');
    const last = body.trim().split('\n\n').pop()!;
    expect(last.split('\n')[0]).toBe('event: error');
    expect(JSON.parse(last.split('\n')[1]!.slice(6))).toMatchObject({ type: 'error', error: { type: 'timeout_error' } });
  });
});

async function waitUntil(ok: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('errors', () => {
  it('refuses bad keys, unknown models and bad bodies in OpenAI shape', async () => {
    const { apiKey } = await tenantWith(1);
    const call = (key: string, body: unknown) =>
      fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await call('sk-gw-nope', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('x-request-id')).toMatch(/^gen-/);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    const unknown = await call(apiKey, { model: 'nope/nothing', messages: [{ role: 'user', content: 'x' }] });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
    const invalid = await call(apiKey, { model: 'openai/gpt-4o-mini', messages: [] });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 'invalid_body', param: 'messages' } });
    const sort = await call(apiKey, { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], provider: { sort: 'cheapest' } });
    expect(sort.status).toBe(400);
    expect(await sort.json()).toMatchObject({ error: { code: 'invalid_body', param: 'provider.sort', message: expect.stringContaining('price, latency, throughput, least_busy') } });
    const json = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: '{"model":' });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: { code: 'invalid_json' } });
  });

  it('lists models with prices', async () => {
    const { apiKey } = await tenantWith(0);
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey });
    const list = await client.models.list();
    const m = list.data.find((x) => x.id === 'openai/gpt-4o-mini') as unknown as { pricing: Record<string, string | null>; context_length: number; providers: string[] };
    expect(m.pricing).toMatchObject({ prompt: '0.15', completion: '0.6' });
    expect(m.context_length).toBe(128000);
    // Every provider that serves it: its own and its catalog equivalents' (azure/gpt-4o-mini).
    expect(m.providers[0]).toBe('openai');
    expect(m.providers).toContain('azure');
  });
});
