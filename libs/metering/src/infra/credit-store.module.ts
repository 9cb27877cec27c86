import { Global, Module } from '@nestjs/common';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { CreditStore } from '../credit-store';
import { PlatformCapLimiter } from '../platform-caps';
import { RedisKeys } from '../redis-keys';
import { UsageStream } from '../usage-stream';
import { InvalidationBus } from './invalidation.bus';
import { REDIS } from './redis.module';

/** The metering stores as Nest providers, over the process's Redis connection. */
@Global()
@Module({
  providers: [
    { provide: RedisKeys, inject: [APP_CONFIG], useFactory: (c: AppConfig) => new RedisKeys(c.REDIS_PREFIX) },
    {
      provide: CreditStore,
      inject: [REDIS, RedisKeys],
      // A settled marker only has to outlive retries of one settle: an hour, not a day, of Redis memory.
      useFactory: (r: Redis, k: RedisKeys) => new CreditStore(r, k, { settledTtlMs: 3_600_000 }),
    },
    {
      provide: UsageStream,
      inject: [REDIS, RedisKeys],
      useFactory: (r: Redis, k: RedisKeys) => new UsageStream(r, k, { consumer: `${hostname()}-${process.pid}` }),
    },
    { provide: PlatformCapLimiter, inject: [REDIS, RedisKeys], useFactory: (r: Redis, k: RedisKeys) => new PlatformCapLimiter(r, k) },
    InvalidationBus,
  ],
  exports: [RedisKeys, CreditStore, UsageStream, PlatformCapLimiter, InvalidationBus],
})
export class CreditStoreModule {}
