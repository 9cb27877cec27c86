import { Inject, Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode } from '@gw/core';

export type { Stripe };

let loaded: typeof Stripe | undefined;

/**
 * The SDK, loaded on first use: it is 219 modules and ~17 MB of resident memory, and the gateway
 * process (which imports this library for its ledger code) never calls Stripe.
 */
function stripeSdk(): typeof Stripe {
  return (loaded ??= require('stripe') as typeof Stripe);
}

export interface OffSessionCharge {
  customerId: string;
  paymentMethodId: string;
  amountCents: number;
  metadata: Record<string, string>;
  description: string;
}

export type OffSessionResult =
  | { kind: 'succeeded'; intent: Stripe.PaymentIntent }
  /** Accepted but not settled yet: the payment_intent.succeeded webhook credits it. */
  | { kind: 'processing'; intent: Stripe.PaymentIntent }
  /** The card refused (or needs the holder, impossible off-session): a definitive no. */
  | { kind: 'declined'; message: string; code: string | null; paymentIntentId: string | null };

/**
 * The Stripe port: every call the product makes to Stripe, through the official SDK. The API host
 * comes from STRIPE_API_BASE (the SDK takes host, port and protocol), so tests and local runs talk
 * to the fake Stripe in libs/testing. Mutating calls carry an Idempotency-Key chosen by the caller.
 */
@Injectable()
export class StripeClient {
  private readonly sdk: Stripe | undefined;
  private readonly webhookSecrets: string[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.webhookSecrets = (config.STRIPE_WEBHOOK_SECRET ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (!config.STRIPE_SECRET_KEY) return;
    const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : undefined;
    this.sdk = new (stripeSdk())(config.STRIPE_SECRET_KEY, {
      ...(base
        ? { host: base.hostname, port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)), protocol: base.protocol === 'https:' ? 'https' : 'http' }
        : {}),
      // Retries are ours (BullMQ, the payer, Stripe's webhook redelivery), always with our keys.
      maxNetworkRetries: 0,
      telemetry: false,
      timeout: 20_000,
    });
  }

  get configured(): boolean {
    return this.sdk !== undefined;
  }

  private get api(): Stripe {
    if (!this.sdk) throw new DomainError(ErrorCode.BillingUnavailable, 'Payments are not configured on this gateway (STRIPE_SECRET_KEY).', { retryAfterSeconds: 3600 });
    return this.sdk;
  }

  createCustomer(tenantId: string, idempotencyKey: string): Promise<Stripe.Customer> {
    return this.call(() => this.api.customers.create({ metadata: { tenant_id: tenantId }, description: `Gateway tenant ${tenantId}` }, { idempotencyKey }));
  }

  createCheckoutSession(params: Stripe.Checkout.SessionCreateParams, idempotencyKey: string): Promise<Stripe.Checkout.Session> {
    return this.call(() => this.api.checkout.sessions.create(params, { idempotencyKey }));
  }

  retrievePaymentIntent(id: string): Promise<Stripe.PaymentIntent> {
    return this.call(() => this.api.paymentIntents.retrieve(id));
  }

  /** Every refund of a charge (a charge.refunded event says the total, not which refunds). */
  listRefunds(chargeId: string): Promise<Stripe.Refund[]> {
    return this.call(async () => {
      const out: Stripe.Refund[] = [];
      for await (const r of this.api.refunds.list({ charge: chargeId, limit: 100 })) out.push(r);
      return out;
    });
  }

  /** Charges a saved card without the holder: a PaymentIntent confirmed off-session. */
  async chargeOffSession(c: OffSessionCharge, idempotencyKey: string): Promise<OffSessionResult> {
    let intent: Stripe.PaymentIntent;
    try {
      intent = await this.api.paymentIntents.create(
        {
          amount: c.amountCents,
          currency: 'usd',
          customer: c.customerId,
          payment_method: c.paymentMethodId,
          off_session: true,
          confirm: true,
          description: c.description,
          metadata: c.metadata,
        },
        { idempotencyKey },
      );
    } catch (e) {
      if (e instanceof stripeSdk().errors.StripeCardError) {
        const pi = (e.raw as { payment_intent?: { id?: string } }).payment_intent;
        return { kind: 'declined', message: e.message, code: e.decline_code ?? e.code ?? null, paymentIntentId: pi?.id ?? null };
      }
      throw e;
    }
    if (intent.status === 'succeeded') return { kind: 'succeeded', intent };
    if (intent.status === 'processing') return { kind: 'processing', intent };
    return { kind: 'declined', message: `The payment needs ${intent.status.replace(/_/g, ' ')}`, code: intent.status, paymentIntentId: intent.id };
  }

  /**
   * Verifies `Stripe-Signature` over the raw body (300 s tolerance) against each configured
   * secret (several during a rotation); a bad signature is the sender's 400.
   */
  verifyEvent(rawBody: Buffer, signature: string | undefined): Stripe.Event {
    if (this.webhookSecrets.length === 0) throw new DomainError(ErrorCode.BillingUnavailable, 'Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET).');
    if (!signature) throw new DomainError(ErrorCode.InvalidBody, 'Missing Stripe-Signature header', { param: 'Stripe-Signature' });
    for (const secret of this.webhookSecrets) {
      try {
        return stripeSdk().webhooks.constructEvent(rawBody, signature, secret);
      } catch (e) {
        if (!(e instanceof stripeSdk().errors.StripeSignatureVerificationError)) throw new DomainError(ErrorCode.InvalidJson, 'The webhook body is not a Stripe event');
      }
    }
    throw new DomainError(ErrorCode.InvalidBody, 'Invalid Stripe signature', { param: 'Stripe-Signature' });
  }

  /** Stripe being unreachable or failing is our 503 (the caller may retry), never a 500. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof DomainError) throw e;
      if (e instanceof stripeSdk().errors.StripeInvalidRequestError || e instanceof stripeSdk().errors.StripeIdempotencyError) {
        throw new DomainError(ErrorCode.Internal, `Stripe refused a request: ${e.message}`);
      }
      throw new DomainError(ErrorCode.BillingUnavailable, 'The payment provider is unavailable; retry shortly.', { retryAfterSeconds: 5, meta: { cause: (e as Error).message } });
    }
  }
}
