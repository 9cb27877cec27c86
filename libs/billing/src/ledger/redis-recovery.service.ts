import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig, Clock } from '@gw/core';
import { ApiKeyRepository } from '@gw/db';
import { REDIS, RedisKeys } from '@gw/metering';
import { BillingSchedule } from '../jobs/billing.schedule';
import { ReconciliationService } from './reconciliation.service';

const CHECK_EVERY_MS = 5_000;
const BATCH = 500;

/**
 * Notices that Redis lost its data (a restart without persistence, a failover to an empty
 * replica, a flush) and puts back what only Postgres still knows: the API keys' statuses (the
 * reserve script refuses a key without one), the BullMQ job schedulers (lost with the queue's
 * keys) and every tenant's balance, rebuilt from the ledger. The sign is a marker key written
 * after each recovery; the check runs on a timer of its own, since BullMQ's schedules may be
 * among what was lost.
 */
@Injectable()
export class RedisRecovery implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('redis-recovery');
  private readonly marker: string;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly apiKeys: ApiKeyRepository,
    private readonly schedule: BillingSchedule,
    private readonly reconciliation: ReconciliationService,
    private readonly clock: Clock,
  ) {
    this.marker = `${config.REDIS_PREFIX}gw:billing:alive`;
  }

  onApplicationBootstrap(): void {
    // Not awaited: a first start (or a start after a loss) must not wait for every tenant's rebuild.
    const tick = () => void this.check().catch((e: unknown) => this.logger.debug(`check failed: ${(e as Error).message}`));
    tick();
    this.timer = setInterval(tick, CHECK_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** True when it found the marker missing and recovered. Concurrent calls share one run. */
  check(): Promise<boolean> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<boolean> {
    if ((await this.redis.exists(this.marker)) === 1) return false;
    const statuses = await this.restoreKeyStatuses();
    await this.schedule.ensure();
    const report = await this.reconciliation.run();
    await this.redis.set(this.marker, String(this.clock.now()));
    if (statuses || report.rebuilt) this.logger.warn(`Redis had lost its data: restored ${statuses} key status(es), rebuilt ${report.rebuilt} balance(s) from the ledger`);
    return true;
  }

  /**
   * Only keys that must work get a status back (a missing status already refuses a key). SET NX:
   * a status written meanwhile (a revocation writes Postgres, then Redis) is never overwritten by
   * this older read of Postgres. Same rule as the admin's KeyStatusStore: a key with an expiry or
   * in its rotation grace is `active` until that instant (PXAT), then refused.
   */
  private async restoreKeyStatuses(): Promise<number> {
    const now = this.clock.now();
    const rows = await this.apiKeys.listAllStatuses();
    let restored = 0;
    for (let i = 0; i < rows.length; i += BATCH) {
      const pipe = this.redis.pipeline();
      for (const k of rows.slice(i, i + BATCH)) {
        const until = activeUntil(k, now);
        if (until === undefined) continue;
        const name = this.keys.keyStatus(k.tenantId, k.id);
        if (until === null) pipe.set(name, 'active', 'NX');
        else pipe.set(name, 'active', 'PXAT', until, 'NX');
      }
      const results = (await pipe.exec()) ?? [];
      restored += results.filter(([err, ok]) => !err && ok === 'OK').length;
    }
    return restored;
  }
}

/** undefined: the key must not work; null: active for good; else active until that ms epoch. */
function activeUntil(k: { status: string; graceUntil: Date | null; expiresAt: Date | null }, now: number): number | null | undefined {
  if (k.status === 'revoked') return undefined;
  const expiry = k.expiresAt?.getTime() ?? null;
  if (expiry !== null && expiry <= now) return undefined;
  if (k.status === 'rotated') {
    const grace = k.graceUntil?.getTime() ?? 0;
    if (grace <= now) return undefined;
    return expiry === null ? grace : Math.min(grace, expiry);
  }
  return expiry;
}
