import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DomainError, ErrorCode, ReadinessGates, throttledLog } from '@gw/core';
import { CatalogRepository } from '@gw/db';
import { InvalidationBus } from '@gw/metering';
import type { ModelPrice } from '@gw/metering';

export interface CatalogEntry {
  id: string;
  provider: string;
  /** Identity across providers (`openai/gpt-4o` for `azure/gpt-4o`): the planner's equivalents. */
  canonical: string;
  upstreamId: string;
  name: string;
  contextLength: number;
  maxOutputTokens: number;
  price: ModelPrice;
  capabilities: string[];
  createdAt: number;
}

const REFRESH_MS = 60_000;
/** Until the first load succeeds (Postgres still coming up), it is retried this often. */
const FIRST_LOAD_RETRY_MS = 1_000;
/** How long start-up waits for the first load before it goes on without it (not ready). */
const FIRST_LOAD_WAIT_MS = 5_000;
const GATE = 'catalog';

/**
 * The model catalog in memory: loaded at start, refreshed every minute and on invalidation. A
 * process that starts while Postgres is unreachable keeps trying every second and is not ready
 * (ReadinessGates) until the catalog has loaded once: without it every model would be unknown.
 */
@Injectable()
export class CatalogCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('catalog');
  private models = new Map<string, CatalogEntry>();
  /** Refreshes started so far: a read installs its result only if no later one started meanwhile. */
  private refreshes = 0;
  private byCanonical = new Map<string, CatalogEntry[]>();
  private timer?: NodeJS.Timeout;
  private firstLoadTimer?: NodeJS.Timeout;
  private loadedOnce = false;
  private destroyed = false;
  /** Failed loads are logged at most every 10 s (every second while Postgres is away at start). */
  private readonly failureLog = throttledLog((m) => this.logger.warn(m));

  constructor(
    private readonly repo: CatalogRepository,
    private readonly bus: InvalidationBus,
    private readonly gates: ReadinessGates,
  ) {}

  /** The catalog has loaded at least once (before that, no model is known). */
  get loaded(): boolean {
    return this.loadedOnce;
  }

  async onModuleInit(): Promise<void> {
    this.gates.hold(GATE, 'the model catalog has not loaded from Postgres yet');
    // Waited for a little (it takes milliseconds when Postgres answers), never for ever: a
    // Postgres that accepts connections and never answers must not keep the app from listening.
    const first = this.refresh();
    await Promise.race([first, new Promise<void>((r) => setTimeout(r, FIRST_LOAD_WAIT_MS).unref())]);
    if (!this.loadedOnce) void first.finally(() => this.retryFirstLoad());
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
    await this.bus.listen((m) => {
      if (m.type === 'catalog' || m.type === 'reset') void this.refresh();
    });
  }

  onModuleDestroy(): void {
    this.destroyed = true;
    clearInterval(this.timer);
    clearTimeout(this.firstLoadTimer);
  }

  /** Until the first load succeeds: another try a second after the last one ended. */
  private retryFirstLoad(): void {
    if (this.loadedOnce || this.destroyed) return;
    this.firstLoadTimer = setTimeout(() => void this.refresh().finally(() => this.retryFirstLoad()), FIRST_LOAD_RETRY_MS);
    this.firstLoadTimer.unref();
  }

  async refresh(): Promise<void> {
    // Reads can finish out of order (an invalidation during the minute's refresh): only the
    // latest one started may install its snapshot, never an older one over a newer.
    const seq = ++this.refreshes;
    try {
      const rows = await this.repo.listEnabled();
      if (seq !== this.refreshes) return;
      this.models = new Map(
        rows.map((r) => [
          r.id,
          {
            id: r.id,
            provider: r.provider,
            canonical: r.canonicalId ?? r.id,
            upstreamId: r.upstreamId,
            name: r.name,
            contextLength: r.contextLength,
            maxOutputTokens: r.maxOutputTokens,
            price: { input: r.inputPrice, output: r.outputPrice, cacheRead: r.cacheReadPrice, cacheWrite: r.cacheWritePrice, cacheWrite1h: r.cacheWrite1hPrice },
            capabilities: r.capabilities,
            createdAt: Math.floor(r.updatedAt.getTime() / 1000),
          },
        ]),
      );
      const groups = new Map<string, CatalogEntry[]>();
      for (const m of this.models.values()) groups.set(m.canonical, [...(groups.get(m.canonical) ?? []), m]);
      this.byCanonical = groups;
      if (!this.loadedOnce) {
        this.loadedOnce = true;
        this.gates.release(GATE);
      }
    } catch (e) {
      // Keep serving the last good catalog through a Postgres blip.
      this.failureLog(`catalog refresh failed: ${(e as Error).message}`);
    }
  }

  get(id: string): CatalogEntry | undefined {
    return this.models.get(id);
  }

  /** Every model sharing a canonical identity (the planner's equivalents). */
  equivalents(canonical: string): CatalogEntry[] {
    return this.byCanonical.get(canonical) ?? [];
  }

  all(): CatalogEntry[] {
    return [...this.models.values()];
  }
}

/** The answer while the catalog has not loaded once: every model would otherwise be "unknown". */
export function catalogNotLoaded(): DomainError {
  return new DomainError(ErrorCode.ServiceUnavailable, 'The model catalog has not loaded yet (the gateway is starting); retry shortly', { retryAfterSeconds: 2 });
}
