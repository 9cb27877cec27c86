import { Inject, Injectable, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import { PrismaService } from '@gw/db';
import { REDIS } from '@gw/metering';
import { metric, within } from './registry';

const TIMEOUT_MS = 1_000;

interface Probe {
  up: boolean;
  seconds?: number;
}

async function timed(p: () => Promise<unknown>): Promise<Probe> {
  const started = performance.now();
  try {
    const done = await within(p().then(() => true), TIMEOUT_MS);
    return done ? { up: true, seconds: (performance.now() - started) / 1000 } : { up: false };
  } catch {
    return { up: false };
  }
}

/** The live probes of this process, latest last (a test may run several apps in one process). */
const live: HealthMetrics[] = [];

/**
 * Redis and Postgres health as gauges, measured when Prometheus scrapes (a ping and a `SELECT 1`,
 * each bounded by a second), never on a request path.
 */
@Injectable()
export class HealthMetrics implements OnModuleInit, OnModuleDestroy {
  private inflight?: Promise<{ redis: Probe; postgres: Probe }>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly prisma: PrismaService,
  ) {}

  onModuleInit(): void {
    live.push(this);
    registerHealthGauges();
  }

  onModuleDestroy(): void {
    const i = live.indexOf(this);
    if (i >= 0) live.splice(i, 1);
  }

  /** The gauges of one scrape share one probe: prom-client collects them concurrently. */
  probe(): Promise<{ redis: Probe; postgres: Probe }> {
    this.inflight ??= Promise.all([timed(() => this.redis.ping()), timed(() => this.prisma.$queryRaw`SELECT 1`)])
      .then(([redis, postgres]) => ({ redis, postgres }))
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }
}

function gauge(name: string, help: string, read: (p: { redis: Probe; postgres: Probe }) => number | undefined): void {
  metric(name, () =>
    new Gauge({
      name,
      help,
      async collect() {
        this.reset();
        const source = live[live.length - 1];
        if (!source) return;
        const v = read(await source.probe());
        if (v !== undefined) this.set(v);
      },
    }),
  );
}

function registerHealthGauges(): void {
  gauge('gw_redis_up', 'Whether Redis answered a PING within a second (1) or not (0)', (p) => (p.redis.up ? 1 : 0));
  gauge('gw_redis_ping_seconds', 'Round trip of the PING', (p) => p.redis.seconds);
  gauge('gw_postgres_up', 'Whether Postgres answered SELECT 1 within a second (1) or not (0)', (p) => (p.postgres.up ? 1 : 0));
  gauge('gw_postgres_ping_seconds', 'Round trip of the SELECT 1', (p) => p.postgres.seconds);
}

/** Redis and Postgres health gauges on /metrics; every app imports it (no BullMQ, no hot-path work). */
@Module({ providers: [HealthMetrics] })
export class HealthMetricsModule {}
