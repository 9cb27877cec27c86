import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode, newId, usdToMicros, type Micros } from '@gw/core';
import { formatUsd } from '@gw/metering';
import { PaymentRepository, StripeCustomerRepository, type TenantScope } from '@gw/db';
import { StripeClient } from '../stripe/stripe.client';

const MICROS_PER_CENT = 10_000n;

export interface CheckoutRequest {
  amountMicros: Micros;
  /** Keep the card on the tenant's Stripe customer for off-session charges (auto top-up). */
  saveCard: boolean;
}

/**
 * Top-ups through Stripe Checkout. The session carries the tenant and our payment id in its
 * metadata (and in the PaymentIntent's), which is all a webhook needs to credit the right tenant,
 * in any order. Nothing is credited here: only Stripe's word that the money arrived credits.
 */
@Injectable()
export class CheckoutService {
  private readonly min: Micros;
  private readonly max: Micros;
  private readonly successUrl: string;
  private readonly cancelUrl: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly stripe: StripeClient,
    private readonly customers: StripeCustomerRepository,
    private readonly payments: PaymentRepository,
  ) {
    this.min = usdToMicros(config.TOPUP_MIN_USD);
    this.max = usdToMicros(config.TOPUP_MAX_USD);
    const base = (config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`).replace(/\/$/, '');
    this.successUrl = config.CHECKOUT_SUCCESS_URL ?? `${base}/api/billing/checkout/success?session_id={CHECKOUT_SESSION_ID}`;
    this.cancelUrl = config.CHECKOUT_CANCEL_URL ?? `${base}/api/billing/checkout/cancel`;
  }

  /** The bounds a top-up (Checkout or auto) must respect: whole cents within [min, max]. */
  assertTopupAmount(amountMicros: Micros, param: string): void {
    if (amountMicros < this.min || amountMicros > this.max) {
      throw new DomainError(ErrorCode.InvalidBody, `${param} must be between ${formatUsd(this.min)} and ${formatUsd(this.max)} USD`, { param });
    }
    if (amountMicros % MICROS_PER_CENT !== 0n) throw new DomainError(ErrorCode.InvalidBody, `${param} must be whole cents`, { param });
  }

  async create(scope: TenantScope, req: CheckoutRequest): Promise<{ id: string; url: string }> {
    this.assertTopupAmount(req.amountMicros, 'amount');
    const customerId = await this.customerOf(scope);
    const paymentId = newId('pay');
    const meta = { tenant_id: scope.tenantId, payment_id: paymentId };
    const session = await this.stripe.createCheckoutSession(
      {
        mode: 'payment',
        customer: customerId,
        client_reference_id: scope.tenantId,
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: 'usd',
              unit_amount: Number(req.amountMicros / MICROS_PER_CENT),
              product_data: { name: 'LLM gateway credits', description: `${formatUsd(req.amountMicros)} USD of prepaid credits` },
            },
          },
        ],
        metadata: { ...meta, save_card: String(req.saveCard) },
        payment_intent_data: { metadata: { ...meta, kind: 'topup' }, ...(req.saveCard ? { setup_future_usage: 'off_session' as const } : {}) },
        success_url: this.successUrl,
        cancel_url: this.cancelUrl,
      },
      `checkout:${paymentId}`,
    );
    if (!session.url) throw new DomainError(ErrorCode.BillingUnavailable, 'Stripe returned a session without a URL', { retryAfterSeconds: 5 });
    await this.payments.createCheckout(scope, { id: paymentId, checkoutSessionId: session.id, amountMicros: req.amountMicros });
    return { id: session.id, url: session.url };
  }

  /**
   * The tenant's Stripe customer, created on first use. Two first checkouts at once send the
   * same Idempotency-Key (Stripe answers both with one customer) and the table keeps one row.
   */
  private async customerOf(scope: TenantScope): Promise<string> {
    const known = await this.customers.get(scope);
    if (known) return known.customerId;
    const created = await this.stripe.createCustomer(scope.tenantId, `customer:${scope.tenantId}`);
    return (await this.customers.insertIfAbsent(scope, created.id)).customerId;
  }
}
