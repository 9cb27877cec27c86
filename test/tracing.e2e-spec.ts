import { REQUEST_TRACER, type RequestTracer } from '@gw/observability';
import { FakeOtlpCollector, OTLP_SPAN_KIND, type CollectedSpan } from '@gw/testing';
import { startTestApp, type TestApp } from './support/test-app';

// The suite decides where traces go; an endpoint from the shell would defeat the "off" case.
delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

const collector = new FakeOtlpCollector();
const messages = [{ role: 'user', content: 'hi' }];

beforeAll(() => collector.start());
afterAll(() => collector.close());

async function tenant(t: TestApp) {
  const s = await t.signup();
  expect((await t.grant(s.tenantId, 5)).status).toBe(201);
  return s;
}

const post = (t: TestApp, apiKey: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** Modules of the OpenTelemetry SDK (and our side of it) in this test file's module registry. */
const sdkModules = () => Object.keys(require.cache).filter((k) => /@opentelemetry[\\/](sdk-trace|exporter-trace-otlp-http|otlp-[a-z-]+|resources|core)[\\/]|otel-request-tracer/.test(k));

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { billingWorker: false });
  });
  afterAll(() => t?.close());

  it('exports nothing and never loads the OpenTelemetry SDK', async () => {
    const res = await post(t, (await tenant(t)).apiKey, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages });
    expect(res.status).toBe(200);
    await res.text();
    expect(t.app.get<RequestTracer>(REQUEST_TRACER).enabled).toBe(false);
    // require.cache is this file's Jest module registry (not empty, see below): the SDK was never required.
    expect(Object.keys(require.cache).some((k) => k.includes('@gw') || k.includes('libs/gateway'))).toBe(true);
    expect(sdkModules()).toEqual([]);
    expect(collector.requestCount).toBe(0);
  });
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let t: TestApp;
  let tracer: RequestTracer;
  let apiKey: string;
  let tenantId: string;

  beforeAll(async () => {
    t = await startTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.baseUrl, OTEL_SERVICE_NAME: 'gw-e2e' }, { billingWorker: false });
    tracer = t.app.get<RequestTracer>(REQUEST_TRACER);
    ({ apiKey, tenantId } = await tenant(t));
  });
  afterAll(() => t?.close());
  afterEach(() => {
    t.openai.reset();
    t.anthropic.reset();
  });

  /** The request's root span and its attempt spans; the batch is flushed instead of waited for. */
  async function traceOf(res: Response): Promise<{ root: CollectedSpan; attempts: CollectedSpan[] }> {
    const id = res.headers.get('x-request-id');
    const [root] = await collector.waitForSpans(1, { where: (s) => s.attributes['gateway.request_id'] === id, poke: () => tracer.flush() });
    return { root, attempts: collector.childrenOf(root) };
  }

  it('traces a request that fails over: one root span, one child per attempt, at their times', async () => {
    expect(sdkModules().length).toBeGreaterThan(0);
    // A Retry-After beyond the gateway's wait: no retry on the same target, straight to the fallback.
    t.openai.enqueue({ status: 429, retryAfter: 30 });
    t.anthropic.enqueue({ text: 'served by the fallback', promptTokens: 11, completionTokens: 4 });
    const started = Date.now();
    const res = await post(t, apiKey, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', models: ['anthropic/claude-haiku-4.5'], messages });
    const body = (await res.json()) as { usage: { cost: number } };
    const elapsedMs = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-attempts')).toBe('2');

    const { root, attempts } = await traceOf(res);
    expect(root.name).toBe('POST /v1/chat/completions');
    expect(root.kind).toBe(OTLP_SPAN_KIND.server);
    expect(root.parentSpanId).toBeUndefined();
    expect(root.status.code).toBe(0);
    expect(root.resource['service.name']).toBe('gw-e2e');
    expect(root.attributes).toMatchObject({
      'http.response.status_code': 200,
      'gen_ai.request.model': 'openai/gpt-4o-mini',
      'gen_ai.response.model': 'anthropic/claude-haiku-4.5',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.usage.input_tokens': 11,
      'gen_ai.usage.output_tokens': 4,
      'gateway.tenant_id': tenantId,
      'gateway.request_id': res.headers.get('x-request-id'),
      'gateway.stream': false,
      'gateway.cost_usd': body.usage.cost,
    });
    expect(body.usage.cost).toBeGreaterThan(0);

    expect(attempts.map((a) => [a.name, a.kind, a.attributes['gen_ai.provider.name'], a.attributes['http.response.status_code'], a.attributes['error.type'] ?? null, a.status.code])).toEqual([
      ['chat openai/gpt-4o-mini', OTLP_SPAN_KIND.client, 'openai', 429, 'upstream_rate_limited', 2],
      ['chat anthropic/claude-haiku-4.5', OTLP_SPAN_KIND.client, 'anthropic', 200, null, 0],
    ]);
    expect(attempts.every((a) => a.traceId === root.traceId && a.attributes['gateway.byok'] === false)).toBe(true);
    const [first, second] = attempts;
    const times = [root.startTimeUnixNano, first.startTimeUnixNano, first.endTimeUnixNano, second.startTimeUnixNano, second.endTimeUnixNano, root.endTimeUnixNano];
    expect([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(times);
    expect(Number(root.endTimeUnixNano - root.startTimeUnixNano) / 1e6).toBeLessThanOrEqual(elapsedMs + 1);
    expect(Number(root.startTimeUnixNano) / 1e6).toBeGreaterThanOrEqual(started - 50);
  });

  it("continues the client's trace from its traceparent and tracestate headers", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const res = await post(t, apiKey, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages }, { traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'tenant=abc' });
    expect(res.status).toBe(200);
    await res.text();
    const { root, attempts } = await traceOf(res);
    expect(root.traceId).toBe(traceId);
    expect(root.parentSpanId).toBe(parentId);
    expect(root.traceState).toBe('tenant=abc');
    expect(attempts).toHaveLength(1);
    expect(attempts[0].traceId).toBe(traceId);
    expect(attempts[0].parentSpanId).toBe(root.spanId);
  });

  it('leaves a trace the client did not sample unrecorded', async () => {
    const res = await post(t, apiKey, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages }, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b7-00' });
    await res.text();
    // A later request's trace arriving proves the earlier one was flushed too, had it existed.
    const next = await post(t, apiKey, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages });
    await next.text();
    await traceOf(next);
    expect(collector.spans.filter((s) => s.attributes['gateway.request_id'] === res.headers.get('x-request-id'))).toEqual([]);
  });

  it('traces a streamed request once its stream has settled', async () => {
    t.openai.enqueue({ text: 'one two three', completionTokens: 3, promptTokens: 7 });
    const res = await post(t, apiKey, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('[DONE]');
    const { root, attempts } = await traceOf(res);
    expect(root.attributes).toMatchObject({ 'gateway.stream': true, 'http.response.status_code': 200, 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 3 });
    expect(root.attributes['gateway.ttfb_ms']).toEqual(expect.any(Number));
    expect(attempts.map((a) => a.attributes['http.response.status_code'])).toEqual([200]);
    expect(attempts[0].endTimeUnixNano).toBeLessThanOrEqual(root.endTimeUnixNano);
  });

  it('traces /v1/messages and /v1/embeddings, and marks a failed request as an error', async () => {
    const anthropic = await post(t, apiKey, '/v1/messages', { model: 'anthropic/claude-haiku-4.5', max_tokens: 50, messages });
    expect(anthropic.status).toBe(200);
    expect((await traceOf(anthropic)).root.name).toBe('POST /v1/messages');

    const embeddings = await post(t, apiKey, '/v1/embeddings', { model: 'openai/text-embedding-3-small', input: 'alpha' });
    expect(embeddings.status).toBe(200);
    const e = await traceOf(embeddings);
    expect(e.root.name).toBe('POST /v1/embeddings');
    expect(e.root.attributes['gen_ai.operation.name']).toBe('embeddings');
    expect(e.attempts.map((a) => a.name)).toEqual(['embeddings openai/text-embedding-3-small']);

    t.openai.enqueue({ status: 503, times: 2 });
    const failed = await post(t, apiKey, '/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const f = await traceOf(failed);
    expect(f.root.status.code).toBe(2);
    expect(f.root.attributes['http.response.status_code']).toBe(failed.status);
    expect(f.root.attributes['error.type']).toEqual(expect.any(String));
    expect(f.attempts.every((a) => a.status.code === 2)).toBe(true);
  });
});
