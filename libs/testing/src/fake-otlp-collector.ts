import type { ServerResponse } from 'node:http';
import { FakeHttpServer, type ReceivedRequest } from './fake-upstream/fake-http.server';

export type SpanAttributeValue = string | number | boolean | SpanAttributeValue[] | null;

/** One span as an OTLP collector stores it, with ids in hex and times in nanoseconds since the epoch. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  /** OTLP's numbering: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, SpanAttributeValue>;
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  resource: Record<string, SpanAttributeValue>;
  scope: string;
}

export const OTLP_SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;

/** OTLP/JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): what the HTTP exporter sends. */
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
}
interface ExportTraceServiceRequest {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[] }[];
}

/**
 * A fake OpenTelemetry collector: accepts OTLP/HTTP JSON on POST /v1/traces and keeps the spans.
 * A queued behaviour with a `status` refuses one export (the exporter's retry path).
 *
 *   const collector = new FakeOtlpCollector();
 *   const url = await collector.start();   // OTEL_EXPORTER_OTLP_ENDPOINT=url
 *   const [root] = await collector.waitForSpans(1, { where: (s) => s.parentSpanId === undefined });
 */
export class FakeOtlpCollector extends FakeHttpServer {
  readonly spans: CollectedSpan[] = [];

  /** Forgets the spans received so far (and queued behaviours). */
  override reset(): this {
    this.spans.length = 0;
    return super.reset();
  }

  /**
   * Resolves with the first `n` spans that match, polling every 20 ms; `poke` (e.g. the tracer's
   * flush) runs before each look so a batching exporter need not be waited for.
   */
  async waitForSpans(n: number, opts: { where?: (s: CollectedSpan) => boolean; poke?: () => Promise<void>; timeoutMs?: number } = {}): Promise<CollectedSpan[]> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    for (;;) {
      await opts.poke?.();
      const found = opts.where ? this.spans.filter(opts.where) : this.spans;
      if (found.length >= n) return found.slice(0, n);
      if (Date.now() > deadline) throw new Error(`collector has ${found.length} of ${n} spans`);
      await this.sleep(20);
    }
  }

  /** The spans whose parent is `span`, in start order. */
  childrenOf(span: CollectedSpan): CollectedSpan[] {
    return this.spans
      .filter((s) => s.traceId === span.traceId && s.parentSpanId === span.spanId)
      .sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0));
  }

  protected async handle(rec: ReceivedRequest, res: ServerResponse): Promise<void> {
    if (rec.method !== 'POST' || rec.path !== '/v1/traces') return this.sendJson(res, 404, { message: 'not found' });
    if (!String(rec.headers['content-type']).startsWith('application/json') || rec.body === undefined) {
      return this.sendJson(res, 415, { message: 'only OTLP/JSON is understood here' });
    }
    if (rec.behaviour.status !== undefined) return this.sendJson(res, rec.behaviour.status, { message: 'refused by the test' });
    for (const rs of (rec.body as ExportTraceServiceRequest).resourceSpans ?? []) {
      const resource = attributesOf(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) this.spans.push(spanOf(s, resource, ss.scope?.name ?? ''));
      }
    }
    this.sendJson(res, 200, {});
  }
}

function spanOf(s: OtlpSpan, resource: Record<string, SpanAttributeValue>, scope: string): CollectedSpan {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    // OTLP/JSON may send an empty string for "no parent".
    parentSpanId: s.parentSpanId || undefined,
    traceState: s.traceState || undefined,
    name: s.name,
    kind: s.kind ?? 0,
    startTimeUnixNano: BigInt(s.startTimeUnixNano),
    endTimeUnixNano: BigInt(s.endTimeUnixNano),
    attributes: attributesOf(s.attributes),
    status: { code: s.status?.code ?? 0, message: s.status?.message },
    resource,
    scope,
  };
}

function attributesOf(kvs: OtlpKeyValue[] | undefined): Record<string, SpanAttributeValue> {
  const out: Record<string, SpanAttributeValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = valueOf(kv.value);
  return out;
}

function valueOf(v: OtlpAnyValue): SpanAttributeValue {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  // int64 travels as a decimal string in OTLP/JSON (some encoders send a number).
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return null;
}
