import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { PaymentTransaction } from './payment-transaction';

/**
 * Payments (Stripe Checkout top-ups and auto top-ups) and the processed Stripe events. Money
 * effects go through `transaction`, which hands out a PaymentTransaction.
 */
@Injectable()
export class PaymentRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** A Checkout top-up the tenant started; it is credited when Stripe says it was paid. */
  createCheckout(scope: TenantScope, input: { id: string; checkoutSessionId: string; amountMicros: bigint }) {
    return this.prisma.payment.create({
      data: { id: input.id, tenantId: scope.tenantId, kind: 'topup', checkoutSessionId: input.checkoutSessionId, amountMicros: input.amountMicros, status: 'open' },
    });
  }

  /** Unscoped on purpose: a Stripe event id is global; the fast path for duplicate deliveries. */
  async isEventProcessed(eventId: string): Promise<boolean> {
    return (await this.prisma.processedStripeEvent.count({ where: { id: eventId } })) > 0;
  }

  /** Runs `fn` in one Postgres transaction (all of an event's effects or none). */
  transaction<T>(fn: (tx: PaymentTransaction) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => fn(new PaymentTransaction(tx)), { timeout: 15_000 });
  }
}
