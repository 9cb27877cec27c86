import { setMaxListeners } from 'node:events';
import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '@gw/core';

/**
 * Requests in progress. On SIGTERM new requests get 503 and this waits for the running requests
 * and streams, up to DRAIN_TIMEOUT_MS, so every hold is settled before the process exits. The
 * wait runs when the HTTP adapter starts closing, before any module's teardown: Nest calls every
 * OnModuleDestroy (the upstream agent, the Redis clients) before BeforeApplicationShutdown, and a
 * drain there would run with its settles' Redis already gone.
 */
@Injectable()
export class InFlight implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('drain');
  /** Each running request, with the controller that cuts it short at the drain deadline. */
  private readonly running = new Map<Promise<unknown>, AbortController | undefined>();
  /**
   * Aborted at the drain deadline (reason ShuttingDown): for upstream work that outlives its
   * client's signal (a non-streamed answer read to its end after the client left), which, already
   * aborted by the client, cannot be aborted again. One signal for the process: no allocation per
   * request; undici adds and removes its own listener per call.
   */
  private readonly cutAll = new AbortController();
  readonly cutSignal: AbortSignal = this.cutAll.signal;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly host?: HttpAdapterHost,
  ) {
    // As many calls as run at once listen to it: not a leak.
    setMaxListeners(0, this.cutSignal);
  }

  onApplicationBootstrap(): void {
    const adapter = this.host?.httpAdapter as { beforeClose?: () => unknown } | undefined;
    if (!adapter) return;
    const before = adapter.beforeClose?.bind(adapter);
    adapter.beforeClose = async () => {
      await before?.();
      await this.drain();
    };
  }

  track<T>(p: Promise<T>, controller?: AbortController): Promise<T> {
    this.running.set(p, controller);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }

  get size(): number {
    return this.running.size;
  }

  /** A context without an HTTP adapter drains here (nothing is left if the adapter drained). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  /**
   * Waits for the running requests up to DRAIN_TIMEOUT_MS; then cuts the ones still running (a
   * stream ends with a `stream_incomplete` event, a waiting request gets 503) and waits a few
   * seconds more for their settles, so what they delivered is charged before Redis closes.
   */
  async drain(): Promise<void> {
    if (this.running.size === 0) return;
    this.logger.log(`draining ${this.running.size} request(s)`);
    if (await this.settledWithin(this.config.DRAIN_TIMEOUT_MS)) return;
    this.logger.warn(`drain timeout: cutting ${this.running.size} request(s) still running`);
    for (const controller of this.running.values()) controller?.abort(new ShuttingDown());
    this.cutAll.abort(new ShuttingDown());
    if (!(await this.settledWithin(CUT_GRACE_MS))) this.logger.error(`${this.running.size} request(s) did not end after being cut`);
  }

  private async settledWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const all = Promise.allSettled([...this.running.keys()]).then(() => true);
    const done = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return done;
  }
}

/** How long requests cut at the drain deadline get to write their last event and settle. */
const CUT_GRACE_MS = 5_000;

/** The abort reason of a request cut because the gateway is shutting down (not a client leaving). */
export class ShuttingDown extends Error {
  constructor() {
    super('The gateway is shutting down');
    this.name = 'ShuttingDown';
  }
}

/** Whether a request's signal was aborted by the shutdown rather than by its client. */
export function cutByShutdown(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof ShuttingDown;
}
