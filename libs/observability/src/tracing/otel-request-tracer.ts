/**
 * The OpenTelemetry side of the request tracer. Loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set (see tracing.module.ts): without it, no SDK module is in the process.
 */
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';
import type { AttemptView } from '../logs/request-log.view';
import type { RequestTracer, TracedRequest } from './request-tracer';

/**
 * GenAI attributes are still incubating (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/);
 * the semantic-conventions package asks users to copy incubating names rather than import them.
 */
const GEN_AI = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
} as const;

const ROUTES: Record<string, string> = {
  'chat.completions': '/v1/chat/completions',
  messages: '/v1/messages',
  embeddings: '/v1/embeddings',
};

/** Bounds every export and the flush at shutdown, so a dead collector never holds the process. */
const EXPORT_TIMEOUT_MS = 5_000;

export interface OtelTracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: spans go to `${endpoint}/v1/traces`. */
  endpoint: string;
  serviceName: string;
  /** Share of new traces kept; a client's sampled `traceparent` decides for its own trace. */
  sampleRatio: number;
}

export function createOtelRequestTracer(o: OtelTracingOptions, processor: SpanProcessor = batchExporterOf(o)): OtelRequestTracer {
  const provider = new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: o.serviceName })),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.sampleRatio) }),
    spanProcessors: [processor],
    forceFlushTimeoutMillis: EXPORT_TIMEOUT_MS,
  });
  return new OtelRequestTracer(provider);
}

/** The URL and time limits are ours; the exporter's own environment variables only fill in the rest (headers, compression). */
function batchExporterOf(o: OtelTracingOptions): SpanProcessor {
  const exporter = new OTLPTraceExporter({ url: `${o.endpoint.replace(/\/+$/, '')}/v1/traces`, timeoutMillis: EXPORT_TIMEOUT_MS });
  return new BatchSpanProcessor({ exporter, exportTimeoutMillis: EXPORT_TIMEOUT_MS });
}

/**
 * A settled request as one SERVER span (from its arrival to settlement) with one CLIENT span per
 * upstream attempt, all made after the fact with explicit times: the hot path never touches OTel.
 * Spans are not registered globally and carry no context across awaits.
 */
export class OtelRequestTracer implements RequestTracer {
  readonly enabled = true;
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(private readonly provider: TracerProvider) {
    this.tracer = provider.getTracer('@gw/gateway');
  }

  record(r: TracedRequest): void {
    // One wall-clock base for the whole trace, so the children sit exactly inside the root.
    const startMs = Date.now() - r.totalMs;
    const at = (ms: number) => startMs + Math.min(Math.max(ms, 0), r.totalMs);
    const parent = r.trace ? this.propagator.extract(ROOT_CONTEXT, r.trace, defaultTextMapGetter) : ROOT_CONTEXT;
    const route = ROUTES[r.endpoint] ?? `/v1/${r.endpoint}`;
    const root = this.tracer.startSpan(`POST ${route}`, { kind: SpanKind.SERVER, startTime: startMs, attributes: rootAttributes(r, route) }, parent);
    if (r.status >= 500) root.setStatus({ code: SpanStatusCode.ERROR, message: r.errorCode });
    if (root.isRecording()) this.recordAttempts(r, trace.setSpan(parent, root), at);
    root.end(at(r.totalMs));
  }

  private recordAttempts(r: TracedRequest, parent: Context, at: (ms: number) => number): void {
    const operation = operationOf(r);
    // An attempt without its start (one that failed before the call) follows the previous one.
    let cursor = r.overheadMs ?? 0;
    r.attempts.forEach((a, i) => {
      const began = a.started_ms ?? cursor;
      cursor = began + a.latency_ms;
      const span = this.tracer.startSpan(`${operation} ${a.model}`, { kind: SpanKind.CLIENT, startTime: at(began), attributes: attemptAttributes(a, i, operation) }, parent);
      if (a.error !== undefined || a.status !== 200) span.setStatus({ code: SpanStatusCode.ERROR, message: a.error });
      span.end(at(cursor));
    });
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, EXPORT_TIMEOUT_MS + 1_000).unref()));
    await Promise.race([this.provider.shutdown().catch(() => undefined), late]);
    clearTimeout(timer);
  }
}

function operationOf(r: TracedRequest): string {
  return r.endpoint === 'embeddings' ? 'embeddings' : 'chat';
}

function rootAttributes(r: TracedRequest, route: string): Attributes {
  const a: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: 'POST',
    [ATTR_HTTP_ROUTE]: route,
    [ATTR_HTTP_RESPONSE_STATUS_CODE]: r.status,
    [GEN_AI.operation]: operationOf(r),
    [GEN_AI.requestModel]: r.requestedModel,
    'gateway.tenant_id': r.tenantId,
    'gateway.request_id': r.requestId,
    'gateway.stream': r.stream,
    'gateway.byok': r.byok,
    'gateway.cost_usd': Number(r.costMicros) / 1e6,
    'gateway.attempts': r.attempts.length,
  };
  if (r.servedModel !== undefined) a[GEN_AI.responseModel] = r.servedModel;
  if (r.provider !== undefined) a[GEN_AI.provider] = r.provider;
  if (r.finishReason) a[GEN_AI.finishReasons] = [r.finishReason];
  if (r.usage) {
    a[GEN_AI.inputTokens] = r.usage.promptTokens;
    a[GEN_AI.outputTokens] = r.usage.completionTokens;
    if (r.estimated) a['gateway.usage_estimated'] = true;
  }
  if (r.errorCode !== undefined) a[ATTR_ERROR_TYPE] = r.errorCode;
  if (r.overheadMs !== undefined) a['gateway.overhead_ms'] = r.overheadMs;
  if (r.ttfbMs !== undefined) a['gateway.ttfb_ms'] = r.ttfbMs;
  return a;
}

function attemptAttributes(at: AttemptView, index: number, operation: string): Attributes {
  const a: Attributes = {
    [GEN_AI.operation]: operation,
    [GEN_AI.provider]: at.provider,
    [GEN_AI.requestModel]: at.model,
    'gateway.attempt': index + 1,
    'gateway.byok': at.byok === true,
  };
  // 0: no response at all (connection error, timeout before headers).
  if (at.status > 0) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = at.status;
  if (at.error !== undefined) a[ATTR_ERROR_TYPE] = at.error;
  return a;
}
