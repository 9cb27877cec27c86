import { DomainError, ErrorCode, isDomainError, type TokenUsage } from '@gw/core';
import type { ChatCompletionChunk } from './openai.types';
import type { StreamTransformer } from './provider';
import { SseEventTooLarge, SseParser, type SseEvent } from './sse';
import { carriesOutput } from './chunk-output';

/**
 * The plumbing every SSE-based transformer shares: incremental parsing, the error-ordering rule of
 * `StreamTransformer` (chunks before an error are returned first, the error is thrown next call),
 * and ignoring everything after the terminal event. Subclasses only translate events.
 */
export abstract class SseTransformerBase implements StreamTransformer {
  private readonly parser = new SseParser();
  private pendingError: DomainError | undefined;
  /** Once an error was thrown, every later call throws it again: a failed stream stays failed. */
  private failure: DomainError | undefined;
  private out: ChatCompletionChunk[] = [];
  private sent = false;
  /** Set by subclasses on the terminal event; later bytes are ignored. */
  protected terminated = false;

  constructor(protected readonly provider: string) {}

  push(bytes: Uint8Array): ChatCompletionChunk[] {
    this.throwPending();
    if (this.terminated) return [];
    let events: SseEvent[];
    try {
      events = this.parser.push(bytes);
    } catch (e) {
      if (!(e instanceof SseEventTooLarge)) throw e;
      // Fails the stream like a malformed event (retried or failed over if nothing was sent).
      this.terminated = true;
      this.failure = this.malformed(e.message);
      throw this.failure;
    }
    return this.run(events);
  }

  end(): ChatCompletionChunk[] {
    this.throwPending();
    const out = this.terminated ? [] : this.run(this.parser.end());
    this.throwPending();
    try {
      this.onEnd();
    } catch (e) {
      if (isDomainError(e)) this.failure = e;
      throw e;
    }
    return out;
  }

  abstract usage(): TokenUsage | undefined;
  abstract finished(): boolean;

  /** Translate one event; call `emit` for output, throw a DomainError for an upstream error. */
  protected abstract onEvent(ev: SseEvent): void;
  /** Called once at end of input when no error is pending: throw if the stream was not complete. */
  protected abstract onEnd(): void;

  protected emit(chunk: ChatCompletionChunk): void {
    this.out.push(chunk);
  }

  /**
   * Whether output has been produced so far (then nothing may be retried). A role chunk alone
   * does not count: the gateway holds it back until the first output (`carriesOutput`).
   */
  protected get sentAnything(): boolean {
    return this.sent || this.out.some(carriesOutput);
  }

  protected malformed(detail: string): DomainError {
    return new DomainError(ErrorCode.StreamIncomplete, `Provider ${this.provider} sent a malformed stream event`, {
      retryable: !this.sentAnything,
      meta: { provider: this.provider, detail },
    });
  }

  protected incomplete(): DomainError {
    return new DomainError(ErrorCode.StreamIncomplete, `Provider ${this.provider} closed the stream before it was complete`, {
      retryable: !this.sentAnything,
      meta: { provider: this.provider },
    });
  }

  private run(events: SseEvent[]): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = [];
    this.out = out;
    for (let i = 0; i < events.length && !this.terminated; i++) {
      try {
        this.onEvent(events[i]);
      } catch (e) {
        const err = isDomainError(e) ? e : this.malformed(e instanceof Error ? e.message : 'unreadable event');
        if (out.length === 0) {
          this.terminated = true;
          this.failure = err;
          throw err;
        }
        this.pendingError = err;
        break;
      }
    }
    if (!this.sent && out.some(carriesOutput)) this.sent = true;
    return out;
  }

  private throwPending(): void {
    if (this.failure !== undefined) throw this.failure;
    const err = this.pendingError;
    if (err === undefined) return;
    this.pendingError = undefined;
    this.terminated = true;
    this.failure = err;
    throw err;
  }
}
