import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ErrorCode, describeError } from '@gw/core';
import { StripeClient, StripeEventHandler } from '@gw/billing';

export const STRIPE_WEBHOOK_PATH = '/api/billing/webhook';
/** Stripe events are a few KB; anything near this is not one. */
const BODY_LIMIT = 1024 * 1024;

/**
 * POST /api/billing/webhook, a plain Fastify route in an encapsulated plugin with its own
 * `application/json` parser that keeps the body as the exact bytes Stripe signed. Nest's global
 * rawBody is not enabled: the gateway's hot path shares this Fastify instance and must not pay
 * for a copy of every body. No bearer auth: the signature is the authentication.
 */
@Injectable()
export class StripeWebhookRoute implements OnModuleInit {
  private readonly logger = new Logger('stripe-webhook');

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly stripe: StripeClient,
    private readonly events: StripeEventHandler,
  ) {}

  onModuleInit(): void {
    const app = this.host.httpAdapter.getInstance<FastifyInstance>();
    void app.register(async (scope) => {
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
      scope.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
        // A DomainError raised before the handler (an overloaded process sheds with 503) keeps its code.
        if (err instanceof DomainError) return this.send(reply, err);
        const code = err.statusCode === 413 ? ErrorCode.RequestTooLarge : ErrorCode.InvalidBody;
        this.send(reply, new DomainError(code, `Not a Stripe webhook delivery: ${err.message}`));
      });
      scope.post(STRIPE_WEBHOOK_PATH, (req, reply) => this.receive(req, reply));
    });
  }

  private async receive(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      if (!Buffer.isBuffer(req.body)) throw new DomainError(ErrorCode.InvalidBody, 'Expected a JSON body');
      const signature = req.headers['stripe-signature'];
      const event = this.stripe.verifyEvent(req.body, Array.isArray(signature) ? signature[0] : signature);
      const outcome = await this.events.handle(event);
      reply.status(200).send({ received: true, outcome });
    } catch (e) {
      // Any non-2xx makes Stripe deliver again later (with backoff, for days): a failure here
      // leaves nothing half-applied, so the redelivery is safe.
      if (!(e instanceof DomainError) || e.code === ErrorCode.Internal) this.logger.error(`webhook failed: ${(e as Error).stack ?? String(e)}`);
      this.send(reply, e);
    }
  }

  private send(reply: FastifyReply, e: unknown): void {
    const d = describeError(e);
    reply.status(d.status).headers(d.headers).send(d.body);
  }
}
