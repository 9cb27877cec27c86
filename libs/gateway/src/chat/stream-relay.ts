import { Injectable } from '@nestjs/common';
import { once } from 'node:events';
import { DomainError, ErrorCode, type TokenUsage } from '@gw/core';
import type { ChatCompletionChunk } from '@gw/llm';
import type { Charges } from './charges';
import type { Candidate } from './chat-plan';
import { settleContextOf, type ChatCall } from './chat-call';
import { UsageEstimator } from './usage-estimator';
import { Settlement } from './settlement';
import type { AttemptRecord } from './usage-event';
import type { UpstreamResponse } from '../upstream/upstream.client';

export interface RelayInput {
  call: ChatCall;
  candidate: Candidate;
  upstream: UpstreamResponse;
  attempts: AttemptRecord[];
  decisions: string[];
  overheadMs: number;
  ttfbMs: number;
  charges: Charges;
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
    const ctx = { model: candidate.model.id, id: call.requestId, created: Math.floor(Date.now() / 1000) };
    const transformer = candidate.endpoint.adapter.createStreamTransformer(ctx);
    const writer = call.format.stream({ ...ctx, provider: candidate.model.provider });
    const generated: string[] = [];
    // Anything the client received (text, tool calls, reasoning): a failure before it is not charged.
    let emitted = false;
    let status = 200;
    let errorCode: string | undefined;
    let finishReason: string | null = null;

    const write = async (chunks: ChatCompletionChunk[]) => {
      if (chunks.length === 0) return;
      for (const c of chunks) {
        const choice = c.choices[0];
        if (choice) {
          const d = choice.delta as { content?: unknown; tool_calls?: unknown[]; reasoning?: unknown };
          if ((typeof d.content === 'string' && d.content !== '') || d.tool_calls?.length || d.reasoning) emitted = true;
          if (typeof choice.delta.content === 'string') generated.push(choice.delta.content);
          if (choice.finish_reason) finishReason = choice.finish_reason;
        }
      }
      const text = writer.chunks(chunks, transformer.usage());
      if (text && !raw.write(text)) await once(raw, 'drain', { signal: call.signal });
    };

    try {
      for await (const buf of r.upstream.body) {
        await write(transformer.push(buf as Uint8Array));
      }
      await write(transformer.end());
    } catch (e) {
      if ((call.clientSignal ?? call.signal).aborted) {
        status = 499;
        errorCode = 'client_closed_request';
      } else {
        const err = e instanceof DomainError ? e : new DomainError(ErrorCode.StreamIncomplete, 'The provider stream ended unexpectedly');
        status = 502;
        errorCode = err.code;
        raw.write(writer.error(err));
      }
    }

    const reported = transformer.usage();
    const usage: TokenUsage = reported ?? this.estimator.estimate(call.body, generated.join(''));
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
      estimated: reported === undefined,
      completionText: call.logContent ? generated.join('') : undefined,
    });
  }
}
