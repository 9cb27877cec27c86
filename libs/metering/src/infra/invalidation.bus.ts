import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { createRedis, REDIS } from './redis.module';

export type InvalidationMessage =
  | { type: 'key'; hash: string }
  | { type: 'tenant'; tenantId: string }
  | { type: 'catalog' };

type Listener = (m: InvalidationMessage | { type: 'reset' }) => void;

/**
 * Cache invalidation across processes over Redis pub/sub. A listener also gets `reset` whenever
 * the subscriber (re)connects, because messages sent while it was away are lost: caches must then
 * drop everything (DESIGN.md, hot path).
 */
@Injectable()
export class InvalidationBus implements OnModuleDestroy {
  private readonly logger = new Logger('invalidation');
  private readonly channel: string;
  private subscriber?: Redis;
  private readonly listeners = new Set<Listener>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {
    this.channel = `${config.REDIS_PREFIX}gw:invalidate`;
  }

  async publish(m: InvalidationMessage): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(m));
  }

  publishKeyChanged(hash: string): Promise<void> {
    return this.publish({ type: 'key', hash });
  }

  /** Subscribes lazily (only processes with caches pay for the second connection). */
  async listen(listener: Listener): Promise<void> {
    this.listeners.add(listener);
    if (this.subscriber) return;
    const sub = createRedis(this.config, 'gw-sub');
    this.subscriber = sub;
    sub.on('ready', () => this.emit({ type: 'reset' }));
    sub.on('message', (_ch: string, text: string) => {
      try {
        this.emit(JSON.parse(text) as InvalidationMessage);
      } catch {
        this.logger.warn('ignored a malformed invalidation message');
      }
    });
    await sub.subscribe(this.channel);
  }

  private emit(m: InvalidationMessage | { type: 'reset' }): void {
    for (const l of this.listeners) l(m);
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
  }
}
