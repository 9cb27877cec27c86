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
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly host?: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    const adapter = this.host?.httpAdapter as { beforeClose?: () => unknown } | undefined;
    if (!adapter) return;
    const before = adapter.beforeClose?.bind(adapter);
    adapter.beforeClose = async () => {
      await before?.();
      await this.drain();
    };
  }

  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
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

  async drain(): Promise<void> {
    if (this.running.size === 0) return;
    this.logger.log(`draining ${this.running.size} request(s)`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((r) => (timer = setTimeout(r, this.config.DRAIN_TIMEOUT_MS)));
    await Promise.race([Promise.allSettled([...this.running]), timeout]);
    clearTimeout(timer);
  }
}
