import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { createOtelRequestTracer } from './otel-request-tracer';
import type { TracedRequest } from './request-tracer';

const ms = (t: ReadableSpan['startTime']) => t[0] * 1e3 + t[1] / 1e6;

function setup(sampleRatio = 1) {
  const exporter = new InMemorySpanExporter();
  const tracer = createOtelRequestTracer({ endpoint: 'http://unused.invalid', serviceName: 'gw-test', sampleRatio }, new SimpleSpanProcessor({ exporter }));
  const spans = () => exporter.getFinishedSpans();
  const root = () => spans().find((s) => s.parentSpanContext === undefined || s.parentSpanContext.isRemote === true)!;
  const children = () => spans().filter((s) => s.parentSpanContext?.spanId === root().spanContext().spanId);
  return { tracer, spans, root, children };
}

const request = (over: Partial<TracedRequest> = {}): TracedRequest => ({
  endpoint: 'chat.completions',
  tenantId: 'ten_1',
  requestId: 'req_1',
  requestedModel: 'openai/gpt-4o-mini',
  servedModel: 'anthropic/claude-haiku-4.5',
  provider: 'anthropic',
  stream: false,
  status: 200,
  usage: { promptTokens: 12, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 5, reasoningTokens: 0 },
  estimated: false,
  byok: false,
  costMicros: 1234n,
  attempts: [
    { model: 'openai/gpt-4o-mini', provider: 'openai', status: 500, error: 'upstream_error', latency_ms: 20, started_ms: 5 },
    { model: 'anthropic/claude-haiku-4.5', provider: 'anthropic', status: 200, latency_ms: 30, started_ms: 26, byok: true },
  ],
  overheadMs: 4,
  ttfbMs: 57,
  totalMs: 80,
  ...over,
});

describe('OtelRequestTracer', () => {
  it('makes one SERVER span over the request and one CLIENT span per attempt, at their recorded times', () => {
    const { tracer, spans, root, children } = setup();
    const before = Date.now();
    tracer.record(request());
    expect(spans()).toHaveLength(3);
    const r = root();
    expect(r.name).toBe('POST /v1/chat/completions');
    expect(r.kind).toBe(SpanKind.SERVER);
    expect(r.parentSpanContext).toBeUndefined();
    expect(r.status.code).toBe(SpanStatusCode.UNSET);
    expect(r.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/chat/completions',
      'http.response.status_code': 200,
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'openai/gpt-4o-mini',
      'gen_ai.response.model': 'anthropic/claude-haiku-4.5',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'gateway.tenant_id': 'ten_1',
      'gateway.request_id': 'req_1',
      'gateway.cost_usd': 0.001234,
      'gateway.stream': false,
      'gateway.attempts': 2,
    });
    expect(r.resource.attributes['service.name']).toBe('gw-test');
    expect(ms(r.endTime) - ms(r.startTime)).toBeCloseTo(80, 2);
    expect(ms(r.endTime)).toBeGreaterThanOrEqual(before);

    const [first, second] = children();
    expect([first.name, second.name]).toEqual(['chat openai/gpt-4o-mini', 'chat anthropic/claude-haiku-4.5']);
    expect(first.kind).toBe(SpanKind.CLIENT);
    expect(first.spanContext().traceId).toBe(r.spanContext().traceId);
    expect(first.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'http.response.status_code': 500, 'error.type': 'upstream_error', 'gateway.byok': false, 'gateway.attempt': 1 });
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(second.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'http.response.status_code': 200, 'gateway.byok': true, 'gateway.attempt': 2 });
    expect(second.status.code).toBe(SpanStatusCode.UNSET);
    expect(ms(first.startTime) - ms(r.startTime)).toBeCloseTo(5, 2);
    expect(ms(first.endTime) - ms(r.startTime)).toBeCloseTo(25, 2);
    expect(ms(second.startTime) - ms(r.startTime)).toBeCloseTo(26, 2);
    expect(ms(second.endTime) - ms(r.startTime)).toBeCloseTo(56, 2);
  });

  it('continues the client trace from traceparent and keeps its tracestate', () => {
    const { tracer, root, children } = setup(0);
    tracer.record(request({ trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'tenant=abc' } }));
    const r = root();
    expect(r.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(r.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(r.spanContext().traceState?.serialize()).toBe('tenant=abc');
    expect(children()).toHaveLength(2);
  });

  it('follows the client sampling decision and the ratio for new traces', () => {
    const off = setup(0);
    off.tracer.record(request());
    off.tracer.record(request({ trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' } }));
    expect(off.spans()).toHaveLength(0);

    const on = setup(1);
    on.tracer.record(request({ trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' } }));
    expect(on.spans()).toHaveLength(0);
    on.tracer.record(request({ trace: { traceparent: 'garbage' } }));
    expect(on.spans()).toHaveLength(3);
    expect(on.root().parentSpanContext).toBeUndefined();
  });

  it('marks a 5xx request as an error, not a 4xx one, and names embeddings as such', () => {
    const { tracer, spans } = setup();
    tracer.record(request({ status: 503, errorCode: 'no_available_provider', servedModel: undefined, provider: undefined, usage: undefined, attempts: [] }));
    tracer.record(request({ endpoint: 'embeddings', status: 402, errorCode: 'insufficient_credits', attempts: [] }));
    const [failed, refused] = spans();
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no_available_provider' });
    expect(failed.attributes['error.type']).toBe('no_available_provider');
    expect(failed.attributes['gen_ai.response.model']).toBeUndefined();
    expect(refused.name).toBe('POST /v1/embeddings');
    expect(refused.attributes['gen_ai.operation.name']).toBe('embeddings');
    expect(refused.status.code).toBe(SpanStatusCode.UNSET);
    expect(refused.attributes['error.type']).toBe('insufficient_credits');
  });

  it('places attempts without a start after the previous one, and never outside the request', () => {
    const { tracer, root, children } = setup();
    tracer.record(
      request({
        totalMs: 50,
        overheadMs: 3,
        attempts: [
          { model: 'm1', provider: 'p', status: 0, error: 'invalid_body', latency_ms: 0 },
          { model: 'm2', provider: 'p', status: 200, latency_ms: 40 },
          { model: 'm3', provider: 'p', status: 200, latency_ms: 30, started_ms: 45 },
        ],
      }),
    );
    const start = ms(root().startTime);
    const at = children().map((s) => [ms(s.startTime) - start, ms(s.endTime) - start]);
    expect(at[0][0]).toBeCloseTo(3, 2);
    expect(at[1][0]).toBeCloseTo(3, 2);
    expect(at[1][1]).toBeCloseTo(43, 2);
    expect(at[2][1]).toBeCloseTo(50, 2);
    expect(children()[0].attributes['http.response.status_code']).toBeUndefined();
  });
});
