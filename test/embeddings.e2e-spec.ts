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
  t.gemini.reset();
});

async function tenantWith(usd: number) {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, usd)).status).toBe(201);
  return s;
}

function embed(apiKey: string, body: unknown, signal?: AbortSignal) {
  return fetch(`${t.url}/v1/embeddings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

async function ledgerSum(tenantId: string): Promise<bigint> {
  const rows = await t.prisma.ledgerEntry.findMany({ where: { tenantId } });
  return rows.reduce((a, r) => a + r.amountMicros, 0n);
}

describe('POST /v1/embeddings input checks', () => {
  it('refuses fields OpenAI does not define instead of passing them on with the platform key', async () => {
    const { apiKey } = await tenantWith(1);
    for (const field of ['api_base', 'api_key', 'extra_headers']) {
      const res = await embed(apiKey, { model: 'openai/text-embedding-3-small', input: 'x', [field]: field === 'extra_headers' ? { authorization: 'Bearer mine' } : 'http://169.254.169.254/' });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_body', param: field } });
    }
    expect(t.openai.requests).toHaveLength(0);
  });

  it('refuses a chat model, bad dimensions and more than 2048 inputs; a long flat token array is one input', async () => {
    const { apiKey } = await tenantWith(1);
    const chat = await embed(apiKey, { model: 'openai/gpt-4o-mini', input: 'x' });
    expect(chat.status).toBe(400);
    expect(await chat.json()).toMatchObject({ error: { param: 'model', message: expect.stringContaining('not an embeddings model') } });
    const dims = await embed(apiKey, { model: 'openai/text-embedding-3-small', input: 'x', dimensions: 'abc' });
    expect(dims.status).toBe(400);
    expect(await dims.json()).toMatchObject({ error: { param: 'dimensions' } });
    const many = await embed(apiKey, { model: 'openai/text-embedding-3-small', input: Array.from({ length: 2049 }, () => 'x') });
    expect(many.status).toBe(400);
    expect(await many.json()).toMatchObject({ error: { param: 'input' } });
    expect(t.openai.requests).toHaveLength(0);
    const tokens = await embed(apiKey, { model: 'openai/text-embedding-3-small', input: Array.from({ length: 3000 }, (_, i) => i % 100) });
    expect(tokens.status).toBe(200);
    expect(((await tokens.json()) as { data: unknown[] }).data).toHaveLength(1);
  });

  it('refuses more than 100 inputs for Gemini, whose batch call takes no more, without calling it', async () => {
    const { apiKey } = await tenantWith(1);
    const res = await embed(apiKey, { model: 'google/gemini-embedding-2', input: Array.from({ length: 101 }, (_, i) => `text ${i}`) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: 'input', message: expect.stringContaining('at most 100') } });
    expect(t.gemini.requests).toHaveLength(0);
    const ok = await embed(apiKey, { model: 'google/gemini-embedding-2', input: Array.from({ length: 100 }, (_, i) => `text ${i}`) });
    expect(ok.status).toBe(200);
  });
});

describe('POST /v1/embeddings upstream failures', () => {
  it('retries a 500 once and serves, charged once', async () => {
    const { apiKey, tenantId } = await tenantWith(1);
    t.openai.enqueue({ status: 500 });
    const res = await embed(apiKey, { model: 'openai/text-embedding-3-small', input: ['alpha', 'beta'] });
    expect(res.status).toBe(200);
    expect(t.openai.requests).toHaveLength(2);
    const c = (await t.credits.getCredits(tenantId))!;
    expect(c.balance).toBeLessThan(1_000_000n);
    expect(c.reserved).toBe(0n);
  });

  it("answers 503 no_available_provider when the platform's key is refused, never the provider's 401", async () => {
    const { apiKey, tenantId } = await tenantWith(1);
    t.openai.enqueue({ status: 401 });
    const res = await embed(apiKey, { model: 'openai/text-embedding-3-small', input: 'x' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.json()).toMatchObject({ error: { code: 'no_available_provider' } });
    expect(t.openai.requests).toHaveLength(1);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(1_000_000n);
  });

  it('charges nothing to a client that left before the call was sent', async () => {
    const { apiKey, tenantId } = await tenantWith(1);
    const reservations = t.app.get(Reservations);
    const hold = reservations.hold.bind(reservations);
    reservations.hold = async (h) => {
      const stop = await hold(h);
      await new Promise((r) => setTimeout(r, 400));
      return stop;
    };
    try {
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 150);
      await expect(embed(apiKey, { model: 'openai/text-embedding-3-small', input: 'x'.repeat(2000) }, abort.signal)).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      reservations.hold = hold;
    }
    expect(t.openai.requests).toHaveLength(0);
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 499, estimated: false });
    expect(log.costMicros).toBe(0n);
    expect((await t.credits.getCredits(tenantId))!.balance).toBe(1_000_000n);
  });

  it('charges a client that leaves while the provider has its input for that input (reliability T17)', async () => {
    const { apiKey, tenantId } = await tenantWith(1);
    t.openai.enqueue({ headerDelayMs: 1500 });
    const input = Array.from({ length: 50 }, (_, i) => `a sentence to embed, number ${i}`);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 400);
    await expect(embed(apiKey, { model: 'openai/text-embedding-3-small', input }, abort.signal)).rejects.toThrow();
    const deadline = Date.now() + 5000;
    while ((await t.credits.getCredits(tenantId))!.reserved !== 0n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const c = (await t.credits.getCredits(tenantId))!;
    expect(c.reserved).toBe(0n);
    expect(c.balance).toBeLessThan(1_000_000n);
    expect(t.openai.lastRequest()!.clientAborted).toBe(true);
    await t.drain();
    const log = await t.prisma.requestLog.findFirstOrThrow({ where: { tenantId } });
    expect(log).toMatchObject({ status: 499, errorCode: 'client_closed_request', estimated: true });
    expect(log.promptTokens).toBeGreaterThan(100);
    expect(log.costMicros).toBe(1_000_000n - c.balance);
    expect(await ledgerSum(tenantId)).toBe(c.balance);
  });
});
