import { Injectable } from '@nestjs/common';
import { once } from 'node:events';
import { DomainError, ErrorCode, type TokenUsage } from '@gw/core';
import { carriesOutput, carriesVisibleOutput, type ChatCompletionChunk, type StreamTransformer } from '@gw/llm';
import type { Charges } from './charges';
import type { Candidate } from './chat-plan';
import { settleContextOf, type ChatCall } from './chat-call';
import { UsageEstimator } from './usage-estimator';
import { cutByShutdown } from '../http/in-flight';
import { Settlement } from './settlement';
import type { AttemptRecord } from './usage-event';
import type { UpstreamResponse } from '../upstream/upstream.client';

/**
 * How long a finished stream (every choice has its finish_reason) may take to end: its usage and
 * end marker follow the finish at once from every provider. Capped by the content idle timeout.
 */
const TRAILER_MS = 5_000;

/**
 * An upstream stream read up to its first content: the chunks before it (a role chunk, say),
 * held back from the client, and the rest of the body.
 */
export interface PrimedStream {
  transformer: StreamTransformer;
  created: number;
  held: ChatCompletionChunk[];
  rest: AsyncIterable<Uint8Array>;
  /** The whole stream was read while priming (it had no content). */
  ended: boolean;
  /** Ends the upstream body with this error (the relay's read then fails with it). */
  cut(err: Error): void;
}

export interface RelayInput {
  call: ChatCall;
  candidate: Candidate;
  primed: PrimedStream;
  attempts: AttemptRecord[];
  decisions: string[];
  overheadMs: number;
  ttfbMs: number;
  charges: Charges;
  /**
   * How long the stream may go without content once it has started. Keep-alives (SSE comments,
   * Anthropic's `ping`) reset the upstream's byte-level idle timeout but not this one, so a
   * provider that stalls mid-stream while sending them cannot hold the request (and its hold)
   * open forever (reliability T19).
   */
  contentIdleMs: number;
}

/**
 * Pipes an upstream stream to the client as OpenAI chunks, as they arrive: backpressure respected,
 * the hold renewed while it runs, and exactly one ending: `[DONE]` after a terminal event, or a
 * final error event (never a truncated stream dressed as complete). What was generated is charged
 * whatever the ending, counted locally when the upstream gave no usage.
 */
@Injectable()
export class StreamRelay {
  constructor(
    private readonly settlement: Settlement,
    private readonly estimator: UsageEstimator,
  ) {}

  /**
   * Reads the upstream until its first content, so that a stream failing before it (an error
   * event, a cut, a malformed event) is an attempt that failed, which the caller may retry or fail
   * over, and not a 200 with a lone error event. Nothing has reached the client yet.
   *
   * `firstOutputMs`: how long the first content may take once the headers are in. Keep-alive
   * comments and pings reset the idle timeout, so without it a provider that only ever sends
   * those would hold the request forever, with no failover.
   */
  async prime(call: ChatCall, candidate: Candidate, upstream: UpstreamResponse, firstOutputMs?: number): Promise<{ primed: PrimedStream } | DomainError> {
    const created = Math.floor(Date.now() / 1000);
    const transformer = candidate.endpoint.adapter.createStreamTransformer({ model: candidate.model.id, id: call.requestId, created, choices: call.body.n ?? 1 });
    const body = upstream.body as AsyncIterable<Uint8Array> & { destroy?(err?: Error): void };
    const timer =
      firstOutputMs === undefined
        ? undefined
        : setTimeout(() => body.destroy?.(new DomainError(ErrorCode.UpstreamTimeout, 'The provider sent no content in time', { retryable: true })), firstOutputMs);
    try {
      return await this.readToFirstOutput(body, transformer, created);
    } finally {
      clearTimeout(timer);
    }
  }

  private async readToFirstOutput(
    body: AsyncIterable<Uint8Array> & { destroy?(err?: Error): void },
    transformer: StreamTransformer,
    created: number,
  ): Promise<{ primed: PrimedStream } | DomainError> {
    const it = body[Symbol.asyncIterator]();
    const rest = { [Symbol.asyncIterator]: () => it };
    const cut = (err: Error) => body.destroy?.(err);
    const held: ChatCompletionChunk[] = [];
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) {
          held.push(...transformer.end());
          return { primed: { transformer, created, held, rest, ended: true, cut } };
        }
        const chunks = transformer.push(next.value);
        held.push(...chunks);
        if (chunks.some(carriesOutput) || transformer.finished()) return { primed: { transformer, created, held, rest, ended: false, cut } };
      }
    } catch (e) {
      body.destroy?.();
      // The transformer says whether its error may be retried (nothing before it carried output).
      return e instanceof DomainError ? e : new DomainError(ErrorCode.StreamIncomplete, 'The provider stream ended before any content', { retryable: true });
    }
  }

  async run(r: RelayInput): Promise<void> {
    const { call, candidate } = r;
    const raw = call.reply.raw;
    call.reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': call.requestId,
      'x-gateway-provider': candidate.model.provider,
      'x-gateway-model': candidate.model.id,
      'x-gateway-attempts': String(r.attempts.length),
      ...(candidate.endpoint.sandbox ? { 'x-gateway-sandbox': 'true' } : {}),
    });
    const { transformer, created } = r.primed;
    const ctx = { model: candidate.model.id, id: call.requestId, created };
    const writer = call.format.stream({ ...ctx, provider: candidate.model.provider });
    const generated: string[] = [];
    // Anything the client received (text, tool calls, reasoning): a failure before it is not charged.
    let emitted = false;
    let status = 200;
    let errorCode: string | undefined;
    let finishReason: string | null = null;
    // Time spent waiting for a slow client to take what was written is not the provider's stall.
    let waitingForClient = false;
    const idleMs = r.contentIdleMs;
    const idle = setTimeout(function stalled() {
      if (waitingForClient) idle.refresh();
      else r.primed.cut(new DomainError(ErrorCode.StreamIdleTimeout, `The provider sent no content for ${idleMs} ms`, { meta: { reason: 'content_idle' } }));
    }, idleMs);
    /**
     * Set once the trailer's time ran out: the stream had finished, only its usage and end marker
     * were still due. Keep-alives reset the connection's byte-level timeout, so without this an
     * upstream that never closes a finished stream (a tenant's own endpoint among them) would
     * hold the request, its hold and the client forever.
     */
    let trailerCut = false;
    let trailer: NodeJS.Timeout | undefined;

    const write = async (chunks: ChatCompletionChunk[]) => {
      if (chunks.length === 0) return;
      for (const c of chunks) {
        const choice = c.choices[0];
        if (choice) {
          if (carriesOutput(c)) {
            // Reasoning the client asked not to see (reasoning.exclude) is no output it received.
            if (!writer.hidesReasoning || carriesVisibleOutput(c)) emitted = true;
            idle.refresh();
          }
          const d = choice.delta;
          if (typeof d.content === 'string') generated.push(d.content);
          if (typeof d.reasoning === 'string') generated.push(d.reasoning);
          if (d.tool_calls) for (const tc of d.tool_calls) if (typeof tc.function?.arguments === 'string') generated.push(tc.function.arguments);
          if (choice.finish_reason) finishReason = choice.finish_reason;
        }
      }
      // After the finish only the trailer (usage, end marker) is left, and it is not waited for long.
      if (transformer.finished() && trailer === undefined) {
        clearTimeout(idle);
        trailer = setTimeout(function trailerDue() {
          // A slow client holds the upstream back (backpressure): that is no upstream left open.
          if (waitingForClient) return void trailer?.refresh();
          trailerCut = true;
          r.primed.cut(new DomainError(ErrorCode.StreamIncomplete, 'The provider did not end its finished stream'));
        }, Math.min(TRAILER_MS, idleMs));
      }
      const text = writer.chunks(chunks, transformer.usage());
      if (text && !raw.write(text)) {
        waitingForClient = true;
        try {
          await once(raw, 'drain', { signal: call.signal });
        } finally {
          waitingForClient = false;
          idle.refresh();
          if (!trailerCut) trailer?.refresh();
        }
      }
      // The writer already sent its error event; the failure ends the relay like an upstream one.
      const failed = writer.failure?.();
      if (failed !== undefined) throw failed;
    };

    try {
      await write(r.primed.held);
      if (!r.primed.ended) {
        for await (const buf of r.primed.rest) await write(transformer.push(buf));
        await write(transformer.end());
      }
    } catch (e) {
      const clientSignal = call.clientSignal ?? call.signal;
      const shutdown = cutByShutdown(clientSignal);
      if (trailerCut && !clientSignal.aborted) {
        // Finished: the client gets its end marker, and usage the provider did not send is counted.
      } else if (clientSignal.aborted && !shutdown) {
        status = 499;
        errorCode = 'client_closed_request';
      } else {
        const err = shutdown
          ? new DomainError(ErrorCode.StreamIncomplete, 'The gateway is shutting down; the stream was cut')
          : e instanceof DomainError
            ? e
            : new DomainError(ErrorCode.StreamIncomplete, 'The provider stream ended unexpectedly');
        status = 502;
        errorCode = err.code;
        raw.write(writer.error(err));
      }
    } finally {
      clearTimeout(idle);
      clearTimeout(trailer);
    }

    const { usage, estimated } = await this.usageOf(transformer.usage(), status === 200 || transformer.finished(), call, generated.join(''));
    // A stream that failed before sending the client any content is not charged, even when the
    // provider stated usage up front (Anthropic's message_start carries the input tokens).
    const failedEmpty = status !== 200 && !emitted;
    const charge = failedEmpty ? { cost: 0n, byokFee: 0n } : r.charges.of(candidate, usage);
    if (status === 200 && !raw.destroyed) raw.write(writer.done(usage, charge.cost + charge.byokFee));
    if (!raw.destroyed) raw.end();
    await this.settlement.settle(settleContextOf(call), {
      candidate,
      status,
      errorCode,
      usage,
      cost: charge.cost,
      byokFee: charge.byokFee,
      attempts: r.attempts,
      decisions: r.decisions,
      finishReason,
      overheadMs: r.overheadMs,
      ttfbMs: r.ttfbMs,
      totalMs: performance.now() - call.startedAt,
      estimated,
      completionText: call.logContent ? generated.join('') : undefined,
    });
  }

  /**
   * What a stream used. Usage given with or after the upstream's finish is final, even when the
   * stream failed later. A stream that ended before its finish (the client left, the provider
   * cut it) may carry only the usage stated up front: Anthropic's message_start gives the input
   * tokens and one output token, the real output count comes with the finish. The output charged
   * is then at least what was delivered, counted locally.
   */
  private async usageOf(reported: TokenUsage | undefined, final: boolean, call: ChatCall, generated: string): Promise<{ usage: TokenUsage; estimated: boolean }> {
    if (reported === undefined) return { usage: await this.estimator.estimate(call.body, generated), estimated: true };
    if (final) return { usage: reported, estimated: false };
    const delivered = await this.estimator.completion(generated);
    if (delivered <= reported.completionTokens) return { usage: reported, estimated: false };
    return { usage: { ...reported, completionTokens: delivered }, estimated: true };
  }
}
