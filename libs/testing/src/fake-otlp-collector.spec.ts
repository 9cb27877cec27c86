import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { FakeOtlpCollector, OTLP_SPAN_KIND } from './fake-otlp-collector';

const collector = new FakeOtlpCollector();
let url: string;

beforeAll(async () => {
  url = await collector.start();
});
afterAll(() => collector.close());
afterEach(() => collector.reset());

describe('FakeOtlpCollector', () => {
  it('decodes what the real OTLP/HTTP exporter sends', async () => {
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'collector-spec' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${url}/v1/traces` }) })],
    });
    const tracer = provider.getTracer('spec-scope');
    const root = tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER, startTime: 1_700_000_000_000, attributes: { n: 3, x: 1.5, ok: true, list: ['stop'] } });
    const child = tracer.startSpan('chat m', { kind: SpanKind.CLIENT, startTime: 1_700_000_000_002 }, trace.setSpan(ROOT_CONTEXT, root));
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream_error' });
    child.end(1_700_000_000_012);
    root.end(1_700_000_000_020);
    await provider.shutdown();

    const spans = await collector.waitForSpans(2);
    expect(collector.lastRequest()?.headers['content-type']).toBe('application/json');
    const [r] = spans.filter((s) => s.kind === OTLP_SPAN_KIND.server);
    expect(r).toMatchObject({ traceId: root.spanContext().traceId, spanId: root.spanContext().spanId, parentSpanId: undefined, scope: 'spec-scope', status: { code: 0 } });
    expect(r.resource['service.name']).toBe('collector-spec');
    expect(r.attributes).toEqual({ n: 3, x: 1.5, ok: true, list: ['stop'] });
    expect(r.startTimeUnixNano).toBe(1_700_000_000_000_000_000n);
    expect(r.endTimeUnixNano - r.startTimeUnixNano).toBe(20_000_000n);
    const [c] = collector.childrenOf(r);
    expect(c).toMatchObject({ name: 'chat m', kind: OTLP_SPAN_KIND.client, status: { code: 2, message: 'upstream_error' } });
  });

  it('answers only OTLP/JSON on POST /v1/traces', async () => {
    expect((await fetch(`${url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    expect((await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: 'x' })).status).toBe(415);
    await expect(collector.waitForSpans(1, { timeoutMs: 50 })).rejects.toThrow('collector has 0 of 1 spans');
  });
});
