import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gw/core';

/**
 * Requests in progress. On SIGTERM the server stops accepting (Fastify closes its listener) and
 * this waits for the running requests and streams, up to DRAIN_TIMEOUT_MS, so every hold is
 * settled before the process exits.
 */
@Injectable()
export class InFlight implements BeforeApplicationShutdown {
  private readonly logger = new Logger('drain');
  private readonly running = new Set<Promise<unknown>>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }

  get size(): number {
    return this.running.size;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.running.size === 0) return;
    this.logger.log(`draining ${this.running.size} request(s)`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((r) => (timer = setTimeout(r, this.config.DRAIN_TIMEOUT_MS)));
    await Promise.race([Promise.allSettled([...this.running]), timeout]);
    clearTimeout(timer);
  }
}
