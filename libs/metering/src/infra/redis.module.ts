import { Global, Inject, Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig, redisConnectionOf } from '@gw/core';
import { batchWritesPerTurn } from './redis-write-batching';

export const REDIS = Symbol('REDIS');

/** Owns the process's Redis command connection and closes it at shutdown. */
@Injectable()
export class RedisLifecycle implements OnModuleDestroy {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

export function createRedis(config: AppConfig, name: string): Redis {
  if (!config.REDIS_URL) throw new Error('REDIS_URL is not set');
  // Commands fail fast while Redis is away so the gateway answers 503 instead of hanging.
  return new Redis({ ...redisConnectionOf(config.REDIS_URL), connectionName: name, maxRetriesPerRequest: 1, enableOfflineQueue: true });
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => {
        const redis = createRedis(c, 'gw');
        if (c.REDIS_BATCH_WRITES) batchWritesPerTurn(redis);
        return redis;
      },
    },
    RedisLifecycle,
  ],
  exports: [REDIS],
})
export class RedisModule {}
