import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { REDIS } from '@gw/metering';
import { DEFAULT_CIRCUIT_POLICY, HealthTracker } from '@gw/routing';

/** The process's HealthTracker: local snapshot for the planner, flushed to Redis every second. */
@Injectable()
export class ProviderHealth extends HealthTracker implements OnModuleInit, OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis) {
    super(redis, config.REDIS_PREFIX, {
      ...DEFAULT_CIRCUIT_POLICY,
      windowMs: config.HEALTH_WINDOW_MS,
      cooldownMs: config.CIRCUIT_COOLDOWN_MS,
      errorRate: config.CIRCUIT_ERROR_RATE,
      minRequests: config.CIRCUIT_MIN_REQUESTS,
    });
  }

  onModuleInit(): void {
    this.start();
  }

  onModuleDestroy(): void {
    this.stop();
  }
}
