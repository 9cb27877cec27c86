import { Controller, Get, Header, Inject, Module, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, register } from 'prom-client';
import { REDIS } from './redis.module';

let defaultsCollected = false;

/** Liveness, readiness (Redis only: a Postgres blip must not take gateways out) and metrics. */
@Controller()
export class OpsController {
  constructor(@Inject(REDIS) private readonly redis: Redis) {
    if (!defaultsCollected) {
      collectDefaultMetrics();
      defaultsCollected = true;
    }
  }

  @Get('healthz')
  health() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async ready(@Res() reply: FastifyReply) {
    try {
      await withTimeout(this.redis.ping(), 1000);
      return reply.send({ status: 'ready', redis: 'ok' });
    } catch {
      return reply.status(503).send({ status: 'not_ready', redis: 'unavailable' });
    }
  }

  @Get('metrics')
  @Header('content-type', register.contentType)
  metrics() {
    return register.metrics();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error('timeout')), ms).unref())]);
}

@Module({ controllers: [OpsController] })
export class OpsModule {}
