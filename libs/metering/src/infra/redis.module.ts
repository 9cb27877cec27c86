import { Global, Inject, Injectable, Logger, Module, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig, redisConnectionOf, throttledLog } from '@gw/core';
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

/** A connection's errors are logged at most this often (ioredis emits one per reconnection attempt). */
const ERROR_LOG_EVERY_MS = 10_000;
/** While waiting for Redis at start, progress is logged this often. */
const WAIT_LOG_EVERY_MS = 5_000;

export function createRedis(config: AppConfig, name: string): Redis {
  if (!config.REDIS_URL) throw new Error('REDIS_URL is not set');
  // Commands fail fast while Redis is away so the gateway answers 503 instead of hanging.
  const redis = new Redis({ ...redisConnectionOf(config.REDIS_URL), connectionName: name, maxRetriesPerRequest: 1, enableOfflineQueue: true });
  // Without a listener ioredis prints every failed reconnection to stderr, unstructured.
  const log = throttledLog((m) => new Logger('redis').warn(m), ERROR_LOG_EVERY_MS);
  redis.on('error', (e: Error) => log(`connection ${name}: ${e.message}`));
  return redis;
}

/**
 * Resolves once the connection is ready; while Redis does not answer (a process starting before
 * it, reliability T59) says so every few seconds, and gives up after `waitMs` naming the last
 * error. Without it, the first command at start failed and the process exited at once.
 */
export async function untilRedisReady(redis: Redis, waitMs: number, where: string): Promise<void> {
  if (redis.status === 'ready') return;
  const logger = new Logger('redis');
  let lastError = 'no answer yet';
  const onError = (e: Error) => (lastError = e.message);
  redis.on('error', onError);
  const started = Date.now();
  const progress = setInterval(() => logger.warn(`waiting for Redis at ${where} (${Math.round((Date.now() - started) / 1000)} s): ${lastError}`), WAIT_LOG_EVERY_MS);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        reject(new Error(`Redis at ${where} did not answer within ${Math.round(waitMs / 1000)} s (REDIS_STARTUP_WAIT_SECONDS): ${lastError}`));
      }, waitMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', onReady);
    });
  } finally {
    clearInterval(progress);
    redis.off('error', onError);
  }
}

/** Where REDIS_URL points, without its credentials (for logs). */
export function redisWhere(url: string | undefined): string {
  if (!url) return '(REDIS_URL is not set)';
  const c = redisConnectionOf(url);
  return c.path ?? `${c.host}:${c.port}`;
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: async (c: AppConfig) => {
        const redis = createRedis(c, 'gw');
        if (c.REDIS_BATCH_WRITES) batchWritesPerTurn(redis);
        await untilRedisReady(redis, c.REDIS_STARTUP_WAIT_SECONDS * 1000, redisWhere(c.REDIS_URL)).catch((e: unknown) => {
          redis.disconnect();
          throw e;
        });
        return redis;
      },
    },
    RedisLifecycle,
  ],
  exports: [REDIS],
})
export class RedisModule {}
