import OpenAI from 'openai';
import { ADMIN_TOKEN, fundedTenant, startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';
import { UsageEstimator } from '../libs/gateway/src/chat/usage-estimator';

/**
 * The pre-flight context check (reliability T12): a prompt over a model's context is refused
 * without calling the provider (or skipped for a fallback that can take it), and a request
 * without max_tokens gets a default output cap that fits the context.
 */
jest.setTimeout(60_000);
let t: TestApp;
const run = Math.random().toString(36).slice(2, 8);
const SMALL = `openai/gw-ctx-${run}`;
const SMALL_CLAUDE = `anthropic/gw-ctx-${run}`;
/** Its maximum output is its whole context (like several catalog models). */
const WHOLE = `openai/gw-ctx-whole-${run}`;
/** 600 words: 601 o200k tokens with the message's newline; 608 with the framing (4 per message + 3). */
const PROMPT_608 = Array(600).fill('hello').join(' ');
/** 1,208 counted tokens: over SMALL's 1,000. */
const PROMPT_1208 = Array(1200).fill('hello').join(' ');
/** 1000 − ceil(608 × 1.1): the default cap leaves the counting margin free. */
const FITTED_CAP = 1000 - Math.ceil(608 * 1.1);

const small = (id: string, upstream: string) => ({
  id,
  upstream_id: upstream,
  context_length: 1000,
  max_output_tokens: 800,
  pricing: { input: '1', output: '2' },
});

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
  for (const m of [small(SMALL, 'gpt-4o-mini'), small(SMALL_CLAUDE, 'claude-haiku-4-5'), { ...small(WHOLE, 'gpt-4o-mini'), max_output_tokens: 1000 }]) {
    expect((await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: m })).status).toBe(201);
  }
  // Wait until the gateway's catalog has them (invalidation, within a second).
  const deadline = Date.now() + 5_000;
  for (;;) {
    const s = await t.signup();
    const r = await fetch(`${t.url}/v1/models`, { headers: { authorization: `Bearer ${s.apiKey}` } });
    const ids = ((await r.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    if ([SMALL, SMALL_CLAUDE, WHOLE].every((id) => ids.includes(id)) || Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 50));
  }
});
afterAll(async () => {
  await t?.prisma.catalogModel.deleteMany({ where: { id: { in: [SMALL, SMALL_CLAUDE, WHOLE] } } });
  await t?.close();
});
afterEach(() => {
  t.openai.reset().setDefaults({});
  t.anthropic.reset();
  jest.restoreAllMocks();
});

/** Watches the gateway's prompt counting. */
const countSpy = () => jest.spyOn(t.app.get(UsageEstimator), 'contextTokens');

const tenant = () => fundedTenant(t);

const sentCap = (body: unknown) => {
  const b = body as { max_tokens?: number; max_completion_tokens?: number };
  return b.max_completion_tokens ?? b.max_tokens;
};

describe('the default output cap fits the context', () => {
  it('is lowered for a prompt that leaves less room than the model maximum (OpenAI family)', async () => {
    const { client } = await tenant();
    t.openai.enqueue({ text: 'ok', promptTokens: 610, completionTokens: 2 });
    await client.chat.completions.create({ model: SMALL, messages: [{ role: 'user', content: PROMPT_608 }] });
    expect(sentCap(t.openai.lastRequest()!.body)).toBe(FITTED_CAP);
  });

  it('is lowered for Anthropic, whose max_tokens is required', async () => {
    const { client } = await tenant();
    t.anthropic.enqueue({ text: 'ok' });
    await client.chat.completions.create({ model: SMALL_CLAUDE, messages: [{ role: 'user', content: PROMPT_608 }] });
    expect((t.anthropic.lastRequest()!.body as { max_tokens: number }).max_tokens).toBe(FITTED_CAP);
  });

  it("leaves a client's own max_tokens as sent: the provider decides", async () => {
    const { client } = await tenant();
    t.openai.enqueue({ text: 'ok', promptTokens: 610, completionTokens: 2 });
    await client.chat.completions.create({ model: SMALL, max_tokens: 700, messages: [{ role: 'user', content: PROMPT_608 }] });
    expect(sentCap(t.openai.lastRequest()!.body)).toBe(700);
  });

  it('stays the model maximum when the prompt leaves room for it, without counting', async () => {
    const { client } = await tenant();
    const counted = countSpy();
    t.openai.enqueue({ text: 'ok' });
    await client.chat.completions.create({ model: SMALL, messages: [{ role: 'user', content: 'hi' }] });
    expect(sentCap(t.openai.lastRequest()!.body)).toBe(800);
    expect(counted).not.toHaveBeenCalled();
  });

  it('is lowered by the byte bound, without counting, when the maximum output is the whole context', async () => {
    const { apiKey } = await tenant();
    const counted = countSpy();
    t.openai.enqueue({ text: 'ok' });
    const body = JSON.stringify({ model: WHOLE, messages: [{ role: 'user', content: 'hi' }] });
    const r = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body });
    expect(r.status).toBe(200);
    // The bound: one token per body byte plus 8 per message.
    expect(sentCap(t.openai.lastRequest()!.body)).toBe(1000 - Math.ceil((Buffer.byteLength(body) + 8) * 1.1));
    expect(counted).not.toHaveBeenCalled();
  });

  it('is lowered on a stream too', async () => {
    const { client } = await tenant();
    t.openai.enqueue({ text: 'ok', deltas: 2 });
    const stream = await client.chat.completions.create({ model: SMALL, stream: true, messages: [{ role: 'user', content: PROMPT_608 }] });
    for await (const _ of stream) void _;
    expect(sentCap(t.openai.lastRequest()!.body)).toBe(FITTED_CAP);
  });
});

describe('a prompt over the context', () => {
  it('is refused with 400 context_length_exceeded before any provider call, holding and charging nothing', async () => {
    const { client, tenantId } = await tenant();
    const before = await t.credits.getCredits(tenantId);
    const err = await client.chat.completions.create({ model: SMALL, messages: [{ role: 'user', content: PROMPT_1208 }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.code).toBe('context_length_exceeded');
    expect(e.param).toBe('messages');
    expect(e.message).toContain('maximum context length is 1000 tokens');
    expect(e.message).toContain('at least 1208 tokens');
    expect(t.openai.requests).toHaveLength(0);
    const after = await t.credits.getCredits(tenantId);
    expect(after).toEqual(before);
    expect(after!.reserved).toBe(0n);
  });

  it('is refused in Anthropic shape on /v1/messages', async () => {
    const { apiKey } = await tenant();
    const r = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: SMALL_CLAUDE, max_tokens: 100, messages: [{ role: 'user', content: PROMPT_1208 }] }),
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(body.error.message).toContain('maximum context length is 1000 tokens');
    expect(t.anthropic.requests).toHaveLength(0);
  });

  it("does not hide a provider's error behind a fallback skipped for its context", async () => {
    const { client } = await tenant();
    t.openai.setDefaults({ status: 503 });
    const err = await client.chat.completions
      .create({ model: 'openai/gpt-4o-mini', models: [SMALL], messages: [{ role: 'user', content: PROMPT_1208 }] } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
    // gpt-4o-mini was tried (with its retries); the small model never was.
    expect(t.openai.requests.length).toBeGreaterThanOrEqual(1);
    expect(t.openai.requests.every((r) => (r.body as { model: string }).model === 'gpt-4o-mini')).toBe(true);
  });

  it('skips to a fallback model with a larger context, recorded as an attempt', async () => {
    const { client, apiKey } = await tenant();
    t.openai.enqueue({ text: 'served by the larger model', promptTokens: 1210, completionTokens: 5 });
    const { data: r, response } = await client.chat.completions
      .create({ model: SMALL, models: ['openai/gpt-4o-mini'], messages: [{ role: 'user', content: PROMPT_1208 }] } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    expect(r.model).toBe('openai/gpt-4o-mini');
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
    expect(t.openai.requests).toHaveLength(1);
    // The larger model takes the full default: the prompt is far from its context.
    expect(sentCap(t.openai.lastRequest()!.body)).toBe(16384);
    await t.drain();
    const g = await fetch(`${t.url}/v1/generation?id=${r.id}`, { headers: { authorization: `Bearer ${apiKey}` } });
    const attempts = ((await g.json()) as { data: { attempts: { model: string; error?: string }[] } }).data.attempts;
    expect(attempts.map((a) => [a.model, a.error ?? null])).toEqual([
      [SMALL, 'context_length_exceeded'],
      ['openai/gpt-4o-mini', null],
    ]);
  });
});
