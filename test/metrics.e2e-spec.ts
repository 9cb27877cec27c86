import OpenAI from 'openai';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parsePrometheus = require('parse-prometheus-text-format') as (text: string) => Array<{ name: string; type: string; metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string }> }>;
import { startTestApp, type TestApp } from './support/test-app';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({}, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
});

async function scrape() {
  const res = await fetch(`${t.url}/metrics`);
  expect(res.status).toBe(200);
  return parsePrometheus(await res.text());
}

function value(families: ReturnType<typeof parsePrometheus>, name: string, labels: Record<string, string>): number {
  const f = families.find((x) => x.name === name);
  const m = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return Number(m?.value ?? m?.count ?? 0);
}

describe('/metrics', () => {
  it('parses as Prometheus text and its counters match the requests sent', async () => {
    const s = await t.signup();
    expect((await t.grant(s.tenantId, 1)).status).toBe(201);
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: s.apiKey, maxRetries: 0 });
    const before = await scrape();
    const ok = (l: Record<string, string>) => value(before, 'gw_requests_total', l);
    const base200 = ok({ endpoint: 'chat.completions', status: '200', model: 'openai/gpt-4o-mini', provider: 'openai' });
    const base400 = ok({ endpoint: 'chat.completions', status: '400', model: 'openai/gpt-4o-mini', provider: 'none' });
    const baseTokens = value(before, 'gw_tokens_total', { model: 'openai/gpt-4o-mini', kind: 'completion' });

    for (let i = 0; i < 3; i++) {
      t.openai.enqueue({ completionTokens: 7, promptTokens: 11 });
      await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    }
    t.openai.enqueue({ status: 400 });
    await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);

    const after = await scrape();
    expect(value(after, 'gw_requests_total', { endpoint: 'chat.completions', status: '200', model: 'openai/gpt-4o-mini', provider: 'openai' })).toBe(base200 + 3);
    expect(value(after, 'gw_requests_total', { endpoint: 'chat.completions', status: '400', model: 'openai/gpt-4o-mini', provider: 'none' })).toBe(base400 + 1);
    expect(value(after, 'gw_tokens_total', { model: 'openai/gpt-4o-mini', kind: 'completion' })).toBe(baseTokens + 21);
    const hist = after.find((f) => f.name === 'gw_request_duration_seconds');
    expect(hist?.type).toBe('HISTOGRAM');
    expect(after.find((f) => f.name === 'gw_upstream_errors_total')).toBeDefined();
    expect(after.find((f) => f.name === 'process_resident_memory_bytes')).toBeDefined();
  });

  it("keeps labels bounded and the tenant's own: no client model string, no tenant's key id, no attempt refused before a call", async () => {
    const s = await t.signup();
    expect((await t.grant(s.tenantId, 1)).status).toBe(201);
    const post = (body: object) => fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], ...body }) });
    const junk = `zz-any-text-${Date.now()}`;
    t.openai.enqueue({ status: 400 });
    expect((await post({ model: junk, models: ['openai/gpt-4o-mini'] })).status).toBe(400);
    // A tenant's own key: its breaker is kept, but its id is never a label.
    const pk = await fetch(`${t.url}/api/provider-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'deepseek', api_key: 'sk-tenant-own-deepseek-1', priority: 'first' }),
    });
    expect(pk.status).toBe(201);
    const pkId = ((await pk.json()) as { id: string }).id;
    await post({ model: 'deepseek/deepseek-chat' });
    // DeepSeek cannot take `n`: that attempt is refused before any call, the fallback serves.
    expect((await post({ model: 'deepseek/deepseek-chat', n: 2, models: ['openai/gpt-4o-mini'] })).status).toBe(200);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).not.toContain(junk);
    expect(text).not.toContain(pkId);
    const families = parsePrometheus(text);
    const errors = families.find((f) => f.name === 'gw_upstream_errors_total')?.metrics ?? [];
    expect(errors.filter((m) => m.labels?.error === 'unsupported_parameter')).toEqual([]);
  });

  it('counts retries the retry budget refused: a failing provider gets at most the budget in retries (reliability T24)', async () => {
    const s = await t.signup();
    expect((await t.grant(s.tenantId, 1)).status).toBe(201);
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: s.apiKey, maxRetries: 0 });
    const denied = async () => value(await scrape(), 'gw_retry_budget_exhausted_total', { provider: 'openai' });
    const before = await denied();
    const sent = t.openai.requests.length;
    // Six requests fail at once with a 1 s Retry-After: each wants one retry, and with six
    // requests in flight the budget (20%, at least 3) lets three retry while they wait.
    for (let i = 0; i < 6; i++) t.openai.enqueue({ status: 503, retryAfter: 1 });
    for (let i = 0; i < 3; i++) t.openai.enqueue({ text: 'ok' });
    const results = await Promise.all(
      Array.from({ length: 6 }, () => client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).then(() => 200, (e: { status?: number }) => e.status)),
    );
    expect(results.filter((r) => r === 200)).toHaveLength(3);
    expect(results.filter((r) => r === 503)).toHaveLength(3);
    expect(t.openai.requests.length - sent).toBe(9);
    expect((await denied()) - before).toBe(3);
  });
});
