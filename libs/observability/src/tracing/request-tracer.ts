import type { IncomingHttpHeaders } from 'node:http';
import type { SettledRequest } from '../logs/request-log.view';

/** The W3C trace context a client sent with its request, kept as raw strings until a span needs it. */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/** One settled /v1 request as the tracer sees it: the usage event, plus who, how much, and the client's trace context. */
export interface TracedRequest extends SettledRequest {
  tenantId: string;
  requestId: string;
  /** Charged, BYOK fee included. */
  costMicros: bigint;
  trace?: TraceHeaders;
}

/**
 * Exports one trace per settled request. The gateway checks `enabled` before building the record,
 * so a disabled tracer costs one property read per request.
 */
export interface RequestTracer {
  readonly enabled: boolean;
  /** Called once per request, synchronously at settlement: span times are derived from "now". */
  record(request: TracedRequest): void;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops; bounded in time. */
  shutdown(): Promise<void>;
}

export const REQUEST_TRACER = Symbol('REQUEST_TRACER');

export const NOOP_REQUEST_TRACER: RequestTracer = Object.freeze({
  enabled: false,
  record: () => undefined,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
});

/** The client's `traceparent` and `tracestate` headers, validated only when a span is made. */
export function traceHeadersOf(headers: IncomingHttpHeaders): TraceHeaders | undefined {
  const traceparent = headers.traceparent;
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = headers.tracestate;
  return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
}
