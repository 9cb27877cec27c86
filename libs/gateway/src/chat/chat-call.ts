import type { FastifyReply } from 'fastify';
import type { ChatRequest, OutputEffort } from '@gw/llm';
import type { TraceHeaders } from '@gw/observability';
import type { KeyInfo } from '../auth/key-cache';
import type { Candidate } from './chat-plan';
import type { ResponseFormat } from './response-format';
import type { SettleContext } from './settlement';
import { cutByShutdown } from '../http/in-flight';

export interface ChatCall {
  key: KeyInfo;
  body: ChatRequest;
  bodyBytes: number;
  requestId: string;
  startedAt: number;
  reply: FastifyReply;
  /** Aborted when the client goes away (or the total timeout passes). */
  signal: AbortSignal;
  /** The client's own signal when `signal` also carries a total timeout. */
  clientSignal?: AbortSignal;
  /** The client's wire format (OpenAI for /v1/chat/completions, Anthropic for /v1/messages). */
  format: ResponseFormat;
  /** Per-request timeouts (x-gateway-*-timeout-ms headers), over the tenant's and the platform's. */
  timeouts?: { firstByteMs?: number; idleMs?: number; totalMs?: number };
  /** Set once the tenant is known: its privacy opt-in to store prompt and completion content. */
  logContent?: boolean;
  /** The client's W3C trace context (traceparent, tracestate headers). */
  trace?: TraceHeaders;
  /** The client's `anthropic-beta` header (beta features of Anthropic's API), for Anthropic upstreams. */
  anthropicBeta?: string;
  /** `/v1/messages`: `output_config.effort` asked without thinking, for Anthropic upstreams. */
  outputEffort?: OutputEffort;
  /** The prompt's size for the context check: its byte bound (one choice), or its count when that was too coarse. */
  promptTokens?: number;
  /** Whether `promptTokens` is a count (only a count refuses a model whose context it exceeds). */
  promptCounted?: boolean;
  /** The attempt whose upstream exchange was in flight when the client went away (its prompt was sent). */
  cutAttempt?: Candidate;
  /**
   * What aborts a non-streamed upstream call: the request's signal, except for the client leaving
   * (see `upstreamSignalOf`). Streams use `signal`.
   */
  upstreamSignal?: AbortSignal;
}

/** The client went away (not a shutdown or the gateway's own timeout). */
export function clientLeft(call: ChatCall): boolean {
  const s = call.clientSignal ?? call.signal;
  return s.aborted && !cutByShutdown(s);
}

/**
 * A non-streamed call is generated, and billed by its provider, in full whether or not anyone
 * waits for it (OpenRouter bills cancelled non-streamed requests in full for that reason), so a
 * client that leaves does not abort it: the answer is read to its end, within the upstream's
 * timeouts, and charged. The request's total timeout (`deadline`) and the shutdown (`shutdown`,
 * aborted at the drain deadline) still abort it, also after the client left.
 */
export function upstreamSignalOf(shutdown: AbortSignal, deadline: AbortSignal | undefined): AbortSignal {
  // The common case allocates nothing: AbortControllers and listeners cost measurable CPU and GC
  // per request (benchmark, 2026-11-27).
  return deadline === undefined ? shutdown : AbortSignal.any([shutdown, deadline]);
}

export function settleContextOf(call: ChatCall): SettleContext {
  return {
    key: call.key,
    requestId: call.requestId,
    endpoint: call.format.endpoint,
    requestedModel: call.body.model,
    stream: call.body.stream === true,
    endUser: typeof call.body.user === 'string' ? call.body.user : undefined,
    messages: call.logContent ? call.body.messages : undefined,
    trace: call.trace,
  };
}
