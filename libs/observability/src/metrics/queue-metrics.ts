import { Inject, Injectable, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { REDIS } from '@gw/metering';
import { BILLING_QUEUE, PAYMENTS_QUEUE } from '@gw/billing';
import { OBSERVABILITY_QUEUE } from '../jobs/observability-jobs';
import { metric, within } from './registry';

/** Every BullMQ queue of the product. */
export const QUEUE_NAMES = [BILLING_QUEUE, PAYMENTS_QUEUE, OBSERVABILITY_QUEUE] as const;
const TIMEOUT_MS = 1_000;

const live: QueueMetrics[] = [];

/**
 * BullMQ queue depths by state (waiting, active, delayed, failed), counted when Prometheus
 * scrapes. The queues share the process's Redis command connection: counting needs no
 * connection of its own and fails fast when Redis is away.
 */
@Injectable()
export class QueueMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly queues: Queue[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  onModuleInit(): void {
    for (const name of QUEUE_NAMES) {
      const q = new Queue(name, { connection: this.redis, prefix: `${this.config.REDIS_PREFIX}bull` });
      // Redis being away shows as gw_redis_up 0 and missing depth series, not as console noise.
      q.on('error', () => undefined);
      this.queues.push(q);
    }
    live.push(this);
    metric('gw_queue_jobs', () =>
      new Gauge({
        name: 'gw_queue_jobs',
        help: 'BullMQ jobs by queue and state (waiting includes prioritized; failed are those kept for inspection)',
        labelNames: ['queue', 'state'],
        async collect() {
          this.reset();
          const source = live[live.length - 1];
          if (!source) return;
          for (const [queue, counts] of await source.counts()) for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
        },
      }),
    );
  }

  async counts(): Promise<Array<[string, Record<string, number>]>> {
    const all = await Promise.all(
      this.queues.map(async (q) => {
        const c = await within(q.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed').catch(() => undefined), TIMEOUT_MS);
        if (!c) return undefined;
        return [q.name, { waiting: (c.wait ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 }] as [string, Record<string, number>];
      }),
    );
    return all.filter((x): x is [string, Record<string, number>] => x !== undefined);
  }

  async onModuleDestroy(): Promise<void> {
    const i = live.indexOf(this);
    if (i >= 0) live.splice(i, 1);
    // Shared connection: closing a queue leaves the process's Redis connection to RedisModule.
    await Promise.all(this.queues.map((q) => q.close().catch(() => undefined)));
  }
}

/** Queue depth gauges on /metrics, for the apps that may load BullMQ (not the gateway). */
@Module({ providers: [QueueMetrics] })
export class QueueMetricsModule {}
