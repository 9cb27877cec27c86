import { Controller, Get, Inject, Logger, Module, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, register } from 'prom-client';
import { APP_CONFIG, describeError, DomainError, ErrorCode, ReadinessGates, secretsEqual, type AppConfig } from '@gw/core';
import { REDIS } from './redis.module';

let defaultsCollected = false;

/** How long the Redis eviction policy read by /readyz is trusted (readiness is polled often). */
const POLICY_TTL_MS = 10_000;

/**
 * Liveness, readiness (Redis, and what the process has not loaded once yet: a Postgres blip must
 * not take running gateways out, but one started during it has no catalog) and metrics.
 * Readiness also requires Redis' `maxmemory-policy noeviction` (reliability T57): under any other
 * policy a full Redis silently drops balances, holds or settled markers (money lost or charged
 * twice) and BullMQ's jobs. A Redis that refuses INFO (some managed services) is not held against it.
 */
@Controller()
export class OpsController {
  private readonly logger = new Logger('readyz');
  private policy?: { value: string | null; readAt: number };

  private readonly metricsToken: Buffer | undefined;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly gates: ReadinessGates,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.metricsToken = config.METRICS_TOKEN === undefined ? undefined : Buffer.from(`Bearer ${config.METRICS_TOKEN}`);
    if (!this.metricsToken && config.NODE_ENV === 'production') {
      new Logger('metrics').warn('METRICS_TOKEN is not set: GET /metrics answers anyone who reaches this port');
    }
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
    } catch {
      return reply.status(503).send({ status: 'not_ready', redis: 'unavailable' });
    }
    const policy = await this.evictionPolicy();
    if (policy !== null && policy !== 'noeviction') {
      return reply.status(503).send({
        status: 'not_ready',
        redis: 'evicting',
        maxmemory_policy: policy,
        reason: 'Redis must run with maxmemory-policy noeviction: an evicted balance, hold or settled marker loses money',
      });
    }
    const waiting = this.gates.pending();
    if (Object.keys(waiting).length > 0) return reply.status(503).send({ status: 'starting', redis: 'ok', waiting_for: waiting });
    return reply.send({ status: 'ready', redis: 'ok' });
  }

  /** Redis' maxmemory-policy, read at most every POLICY_TTL_MS; null when Redis will not say. */
  private async evictionPolicy(): Promise<string | null> {
    const now = Date.now();
    if (this.policy && now - this.policy.readAt < POLICY_TTL_MS) return this.policy.value;
    let value: string | null = null;
    try {
      value = /^maxmemory_policy:(\S+)/m.exec(await withTimeout(this.redis.info('memory'), 1000))?.[1] ?? null;
    } catch {
      value = null;
    }
    if (value !== null && value !== 'noeviction' && this.policy?.value !== value) {
      this.logger.error(`Redis maxmemory-policy is ${value}; set it to noeviction (not ready until then)`);
    }
    this.policy = { value, readAt: now };
    return value;
  }

  /**
   * Prometheus text. It shows platform revenue by model and makes each scrape query Postgres and
   * Redis, so with METRICS_TOKEN set only a scraper presenting it is answered.
   */
  @Get('metrics')
  async metrics(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    if (this.metricsToken && !secretsEqual(req.headers.authorization, this.metricsToken)) {
      const d = describeError(new DomainError(ErrorCode.Unauthorized, 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>'));
      return reply.status(d.status).headers(d.headers).send(d.body);
    }
    return reply.header('content-type', register.contentType).send(await register.metrics());
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error('timeout')), ms).unref())]);
}

@Module({ controllers: [OpsController] })
export class OpsModule {}
