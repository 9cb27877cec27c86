import { costMicros } from '@gw/metering';
import { CatalogSeeder } from '@gw/admin';
import { ADMIN_TOKEN, fundedTenant, startTestApp, type TestApp } from './support/test-app';
import { call } from './support/admin-api';

/** GET /api/models for everyone signed in; POST and PATCH for operators (API.md). */
jest.setTimeout(60_000);
let t: TestApp;
let tenant: Awaited<ReturnType<typeof fundedTenant>>;
const run = Math.random().toString(36).slice(2, 8);
/** Models this file adds: unique per run, the database is shared with other files of the worker. */
const ID = `openai/gw-test-${run}`;
const SEEDED = 'mistral/mistral-small-latest';

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
  tenant = await fundedTenant(t);
});
afterAll(async () => {
  // Leaves the shared catalog as the seed made it.
  await t?.prisma.catalogModel.deleteMany({ where: { id: { startsWith: `openai/gw-test-${run}` } } });
  await t?.close();
});
afterEach(() => t.openai.reset().setDefaults({}));

const newModel = (over: object = {}) => ({
  id: ID,
  upstream_id: 'gpt-4o-mini',
  name: 'Test model',
  context_length: 32000,
  max_output_tokens: 4000,
  pricing: { input: '1.5', output: '6', cache_read: '0.75' },
  capabilities: ['tools'],
  ...over,
});

/** The gateway's view of the catalog (refreshed on invalidation, within a second). */
async function servedModels(): Promise<Map<string, { pricing: Record<string, string | null>; context_length: number }>> {
  const r = await fetch(`${t.url}/v1/models`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
  const body = (await r.json()) as { data: { id: string; pricing: Record<string, string | null>; context_length: number }[] };
  return new Map(body.data.map((m) => [m.id, m]));
}

/** Every page of GET /api/models. */
async function listAll(token: string): Promise<{ id: string; enabled: boolean }[]> {
  const out: { id: string; enabled: boolean }[] = [];
  let cursor: string | null = null;
  do {
    const r = await call(t.url, 'GET', `/api/models?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token });
    expect(r.status).toBe(200);
    out.push(...(r.body.data as { id: string; enabled: boolean }[]));
    cursor = r.body.next_cursor as string | null;
  } while (cursor);
  return out;
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('GET /api/models', () => {
  it('lists the catalog with prices in USD per million tokens, as strings, paged in id order', async () => {
    const first = await call(t.url, 'GET', '/api/models?limit=5', { token: tenant.token });
    expect(first.body.data).toHaveLength(5);
    const second = await call(t.url, 'GET', `/api/models?limit=5&cursor=${first.body.next_cursor}`, { token: tenant.token });
    const ids = [...first.body.data, ...second.body.data].map((m: { id: string }) => m.id);
    // Two pages of five are the first page of ten: no row skipped or repeated at the seam.
    const ten = await call(t.url, 'GET', '/api/models?limit=10', { token: tenant.token });
    expect(ids).toEqual(ten.body.data.map((m: { id: string }) => m.id));
    expect(new Set(ids).size).toBe(10);
    const all = await listAll(tenant.token);
    expect(all.length).toBe(await t.prisma.catalogModel.count({ where: { enabled: true } }));
    const mini = all.find((m) => m.id === 'openai/gpt-4o-mini');
    expect(mini).toMatchObject({
      provider: 'openai',
      upstream_id: 'gpt-4o-mini',
      context_length: 128000,
      max_output_tokens: 16384,
      pricing: { input: '0.15', output: '0.6', cache_read: '0.075', cache_write: null },
      enabled: true,
    });
  });

  it('reads one model by its id, slashes and all', async () => {
    const one = await call(t.url, 'GET', '/api/models/openai/gpt-4o-mini', { token: tenant.token });
    expect(one.status).toBe(200);
    expect(one.body.id).toBe('openai/gpt-4o-mini');
    const nested = await call(t.url, 'GET', '/api/models/openrouter/anthropic/claude-haiku-4.5', { token: tenant.token });
    expect(nested.status).toBe(200);
    expect(nested.body).toMatchObject({ id: 'openrouter/anthropic/claude-haiku-4.5', provider: 'openrouter' });
    const missing = await call(t.url, 'GET', '/api/models/openai/no-such-model', { token: tenant.token });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'model_not_found', param: 'id' });
  });

  it('needs a signed-in user or an operator', async () => {
    expect((await call(t.url, 'GET', '/api/models')).status).toBe(401);
    // An inference key reads the catalog at /v1/models; the /api one is the dashboard's.
    expect((await call(t.url, 'GET', '/api/models', { token: tenant.apiKey })).status).toBe(403);
    expect((await call(t.url, 'GET', '/api/models', { token: ADMIN_TOKEN })).status).toBe(200);
  });
});

describe('operators change the catalog', () => {
  it('adds a model that every gateway serves and prices at once', async () => {
    const created = await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: newModel() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: ID, provider: 'openai', canonical: null, pricing: { input: '1.5', output: '6', cache_read: '0.75', cache_write: null, cache_write_1h: null }, operator_edited: true, enabled: true });
    const served = await until(servedModels, (m) => m.has(ID));
    expect(served.get(ID)).toMatchObject({ context_length: 32000, pricing: { prompt: '1.5', completion: '6' } });

    const { client } = tenant;
    t.openai.enqueue({ text: 'new model', promptTokens: 1000, completionTokens: 100 });
    const before = (await t.credits.getCredits(tenant.tenantId))!.balance;
    const r = await client.chat.completions.create({ model: ID, messages: [{ role: 'user', content: 'hi' }] });
    expect(r.model).toBe(ID);
    expect((t.openai.lastRequest()!.body as { model: string }).model).toBe('gpt-4o-mini');
    const cost = costMicros({ promptTokens: 1000, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 100, reasoningTokens: 0 }, { input: 1_500_000n, output: 6_000_000n, cacheRead: 750_000n, cacheWrite: null }, 0n);
    expect(cost).toBe(2_100n);
    expect((await t.credits.getCredits(tenant.tenantId))!.balance).toBe(before - cost);
  });

  it('changes prices and limits; a disabled model is gone for tenants and the gateway', async () => {
    const patched = await call(t.url, 'PATCH', `/api/models/${ID}`, { token: ADMIN_TOKEN, body: { pricing: { input: '3', output: '12' }, max_output_tokens: 8000 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ max_output_tokens: 8000, pricing: { input: '3', output: '12', cache_read: null } });
    await until(servedModels, (m) => m.get(ID)?.pricing.prompt === '3');

    const { client } = tenant;
    t.openai.enqueue({ text: 'repriced', promptTokens: 1000, completionTokens: 100 });
    const before = (await t.credits.getCredits(tenant.tenantId))!.balance;
    await client.chat.completions.create({ model: ID, messages: [{ role: 'user', content: 'hi' }] });
    // 1000 × 3 + 100 × 12 USD per million = 4,200 micros; the default output cap is the new maximum.
    expect((await t.credits.getCredits(tenant.tenantId))!.balance).toBe(before - 4_200n);
    expect((t.openai.lastRequest()!.body as { max_tokens?: number; max_completion_tokens?: number })).toMatchObject({ max_completion_tokens: 8000 });

    expect((await call(t.url, 'PATCH', `/api/models/${ID}`, { token: ADMIN_TOKEN, body: { enabled: false } })).status).toBe(200);
    await until(servedModels, (m) => !m.has(ID));
    const refused = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: ID, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(refused.status).toBe(404);
    expect((await call(t.url, 'GET', `/api/models/${ID}`, { token: tenant.token })).status).toBe(404);
    const seen = await call(t.url, 'GET', `/api/models/${ID}`, { token: ADMIN_TOKEN });
    expect(seen.body).toMatchObject({ id: ID, enabled: false });
    expect((await listAll(tenant.token)).some((m) => m.id === ID)).toBe(false);
    expect((await listAll(ADMIN_TOKEN)).find((m) => m.id === ID)).toMatchObject({ enabled: false });
  });

  it("keeps an operator's edit of a seeded model when the catalog file is seeded again", async () => {
    const original = await t.prisma.catalogModel.findUniqueOrThrow({ where: { id: SEEDED } });
    try {
      expect((await call(t.url, 'PATCH', `/api/models/${SEEDED}`, { token: ADMIN_TOKEN, body: { pricing: { input: '9', output: '9' } } })).status).toBe(200);
      await t.app.get(CatalogSeeder).seed();
      const after = await call(t.url, 'GET', `/api/models/${SEEDED}`, { token: ADMIN_TOKEN });
      expect(after.body).toMatchObject({ pricing: { input: '9', output: '9' }, operator_edited: true });
    } finally {
      await t.prisma.catalogModel.update({ where: { id: SEEDED }, data: original });
      await t.app.get(CatalogSeeder).seed();
    }
  });

  it.each([
    ['an unknown provider', { id: `nope/gw-test-${run}` }, 'id', 'Unknown provider'],
    ['an id without a provider', { id: 'gw-test' }, 'id', 'provider/model'],
    ['an output cap over the context', { max_output_tokens: 64000 }, 'max_output_tokens', 'must not exceed context_length'],
    ['a price given as a number', { pricing: { input: 1.5, output: '6' } }, 'pricing.input', 'decimal string'],
    ['a price with 7 decimals', { pricing: { input: '0.0000001', output: '6' } }, 'pricing.input', 'decimal string'],
    ['a negative price', { pricing: { input: '-1', output: '6' } }, 'pricing.input', 'decimal string'],
    ['no prices', { pricing: undefined }, 'pricing', 'pricing is required'],
    ['no upstream id', { upstream_id: undefined }, 'upstream_id', 'upstream_id'],
    ['a canonical model that does not exist', { canonical: 'openai/no-such-model' }, 'canonical', 'no model openai/no-such-model'],
    ['an unknown field', { price: '1' }, 'price', 'should not exist'],
  ])('refuses %s (400, naming the field)', async (_what, over, param, message) => {
    const r = await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: newModel({ id: `${ID}-bad`, ...over }) });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe(param);
    expect(r.body.error.message).toContain(message);
  });

  it('names a canonical model only if it is itself canonical, and an empty PATCH changes nothing', async () => {
    const alias = `${ID}-alias`;
    expect((await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: newModel({ id: alias, canonical: 'openai/gpt-4o-mini' }) })).status).toBe(201);
    const chained = await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: newModel({ id: `${ID}-chain`, canonical: alias }) });
    expect(chained.status).toBe(400);
    expect(chained.body.error).toMatchObject({ param: 'canonical' });
    expect(chained.body.error.message).toContain('openai/gpt-4o-mini');
    const seeded = await t.prisma.catalogModel.findUniqueOrThrow({ where: { id: SEEDED } });
    const empty = await call(t.url, 'PATCH', `/api/models/${SEEDED}`, { token: ADMIN_TOKEN, body: {} });
    expect(empty.status).toBe(200);
    expect(empty.body.operator_edited).toBe(seeded.operatorEdited);
    expect(await t.prisma.catalogModel.findUniqueOrThrow({ where: { id: SEEDED } })).toEqual(seeded);
  });

  it('refuses (400) to give a canonical to a model that others name as theirs: no chain through PATCH either', async () => {
    const head = `${ID}-head`;
    const member = `${ID}-member`;
    expect((await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: newModel({ id: head }) })).status).toBe(201);
    expect((await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: newModel({ id: member, canonical: head }) })).status).toBe(201);
    const before = await t.prisma.catalogModel.findUniqueOrThrow({ where: { id: head } });
    const chained = await call(t.url, 'PATCH', `/api/models/${head}`, { token: ADMIN_TOKEN, body: { canonical: 'openai/gpt-4o-mini', name: 'renamed' } });
    expect(chained.status).toBe(400);
    expect(chained.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body', param: 'canonical' });
    expect(chained.body.error.message).toContain(member);
    expect(await t.prisma.catalogModel.findUniqueOrThrow({ where: { id: head } })).toEqual(before);
    // Other changes of the same model, and a null canonical, are fine; so is re-pointing a member.
    expect((await call(t.url, 'PATCH', `/api/models/${head}`, { token: ADMIN_TOKEN, body: { canonical: null, name: 'renamed' } })).status).toBe(200);
    expect((await call(t.url, 'PATCH', `/api/models/${member}`, { token: ADMIN_TOKEN, body: { canonical: head } })).status).toBe(200);
  });

  it('refuses ids with empty segments, and ids too long for a page cursor', async () => {
    for (const id of ['openai/gw-test//x', 'openai/gw-test/', `openai/${'x'.repeat(140)}`]) {
      const r = await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: newModel({ id }) });
      expect(r.status).toBe(400);
      expect(r.body.error.param).toBe('id');
    }
  });

  it('refuses a second model with the same id (409), and PATCH of an unknown one (404)', async () => {
    const again = await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: newModel() });
    expect(again.status).toBe(409);
    expect(again.body.error.param).toBe('id');
    const missing = await call(t.url, 'PATCH', '/api/models/openai/no-such-model', { token: ADMIN_TOKEN, body: { enabled: false } });
    expect(missing.status).toBe(404);
    const shrunk = await call(t.url, 'PATCH', `/api/models/${ID}`, { token: ADMIN_TOKEN, body: { context_length: 1000 } });
    expect(shrunk.status).toBe(400);
    expect(shrunk.body.error.param).toBe('max_output_tokens');
  });

  it('is for operators only', async () => {
    const byTenant = await call(t.url, 'POST', '/api/models', { token: tenant.token, body: newModel({ id: `${ID}-tenant` }) });
    expect(byTenant.status).toBe(403);
    const patch = await call(t.url, 'PATCH', '/api/models/openai/gpt-4o-mini', { token: tenant.token, body: { pricing: { input: '0', output: '0' } } });
    expect(patch.status).toBe(403);
    expect((await t.prisma.catalogModel.findUniqueOrThrow({ where: { id: 'openai/gpt-4o-mini' } })).inputPrice).toBe(150_000n);
  });
});

/**
 * Reliability T35: every charge records the rate card it was made at (on the request log, and in
 * words on the ledger entry), the card reproduces the charge, and a price change mid-traffic
 * applies only to requests admitted after it.
 */
describe('the rate card of a charge (T35)', () => {
  const CARD_ID = `openai/gw-test-${run}-card`;
  const generation = async (id: string) => {
    const r = await fetch(`${t.url}/v1/generation?id=${id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
    expect(r.status).toBe(200);
    return ((await r.json()) as { data: Record<string, unknown> }).data;
  };
  /** DESIGN.md's formula over the card as the API shows it (USD per million), in exact integers. */
  const costFromCard = (g: Record<string, unknown>, markupBps: bigint): bigint => {
    const p = g.pricing as Record<string, string | null>;
    const micros = (usd: string | null) => BigInt(Math.round(Number(usd) * 1e6));
    const prompt = BigInt(g.tokens_prompt as number);
    const cached = BigInt(g.tokens_cached as number);
    const sum = (prompt - cached) * micros(p.prompt) + cached * micros(p.cache_read ?? p.prompt) + BigInt(g.tokens_completion as number) * micros(p.completion);
    const scaled = sum * (10_000n + markupBps);
    const d = 1_000_000n * 10_000n;
    return (scaled + d - 1n) / d;
  };

  beforeAll(async () => {
    const made = await call(t.url, 'POST', '/api/models', { token: ADMIN_TOKEN, body: newModel({ id: CARD_ID, pricing: { input: '1.5', output: '6', cache_read: '0.75' } }) });
    expect(made.status).toBe(201);
    await until(servedModels, (m) => m.has(CARD_ID));
  });

  it('keeps the captured prices on the request log and the ledger entry; they reproduce the charge', async () => {
    t.openai.enqueue({ text: 'carded', promptTokens: 1234, cachedTokens: 200, completionTokens: 321 });
    const { response } = await tenant.client.chat.completions.create({ model: CARD_ID, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const id = response.headers.get('x-request-id')!;
    await t.drain();
    const g = await generation(id);
    expect(g.pricing).toEqual({ prompt: '1.5', completion: '6', cache_read: '0.75', cache_write: null, cache_write_1h: null, markup_bps: 0 });
    // (1034 × 1.5 + 200 × 0.75 + 321 × 6) USD per million = 3,627 micros.
    expect(costFromCard(g, 0n)).toBe(3_627n);
    const entry = await t.prisma.ledgerEntry.findUniqueOrThrow({ where: { idempotencyKey: `usage:${id}` } });
    expect(entry.amountMicros).toBe(-3_627n);
    expect(entry.description).toBe(`${CARD_ID} at USD 1.5/M prompt, 6/M completion, 0.75/M cache read; markup 0 bps`);
  });

  it('charges a request admitted before a price change at the old card, and one admitted after at the new', async () => {
    // Admitted (hold taken at the old prices), then the operator doubles them while the provider works.
    t.openai.enqueue({ text: 'slow', promptTokens: 1000, completionTokens: 100, headerDelayMs: 4000 });
    const seen = t.openai.requestCount;
    let answered = false;
    const slow = tenant.client.chat.completions
      .create({ model: CARD_ID, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse()
      .finally(() => (answered = true));
    expect(await until(async () => t.openai.requestCount, (n) => n > seen)).toBeGreaterThan(seen);
    expect((await call(t.url, 'PATCH', `/api/models/${CARD_ID}`, { token: ADMIN_TOKEN, body: { pricing: { input: '3', output: '12' } } })).status).toBe(200);
    expect((await until(servedModels, (m) => m.get(CARD_ID)?.pricing.prompt === '3')).get(CARD_ID)?.pricing.prompt).toBe('3');
    t.openai.enqueue({ text: 'after', promptTokens: 1000, completionTokens: 100 });
    const after = await tenant.client.chat.completions.create({ model: CARD_ID, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    // The first request was still with the provider when the new prices were served, and after.
    expect(answered).toBe(false);
    const before = await slow;
    await t.drain();

    const old = await generation(before.response.headers.get('x-request-id')!);
    expect(old.pricing).toMatchObject({ prompt: '1.5', completion: '6', cache_read: '0.75' });
    expect(old.cost).toBe(0.0021); // 1000 × 1.5 + 100 × 6 = 2,100 micros
    const repriced = await generation(after.response.headers.get('x-request-id')!);
    expect(repriced.pricing).toMatchObject({ prompt: '3', completion: '12', cache_read: null });
    expect(repriced.cost).toBe(0.0042);
    for (const g of [old, repriced]) expect(BigInt(Math.round((g.cost as number) * 1e6))).toBe(costFromCard(g, 0n));
  });
});
