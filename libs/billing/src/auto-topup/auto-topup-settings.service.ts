import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode, type Micros } from '@gw/core';
import { AutoTopupRepository, StripeCustomerRepository, type AutoTopupAttemptRow, type TenantScope } from '@gw/db';
import { CheckoutService } from '../topup/checkout.service';

export interface AutoTopupView {
  enabled: boolean;
  thresholdMicros: Micros | null;
  amountMicros: Micros | null;
  hasPaymentMethod: boolean;
  consecutiveFailures: number;
  lastAttempt: AutoTopupAttemptRow | null;
}

export interface AutoTopupChange {
  enabled: boolean;
  thresholdMicros: Micros;
  amountMicros: Micros;
}

/** GET/PUT /api/billing/auto-topup: the settings, checked against the saved card and top-up bounds. */
@Injectable()
export class AutoTopupSettingsService {
  constructor(
    private readonly repo: AutoTopupRepository,
    private readonly customers: StripeCustomerRepository,
    private readonly checkout: CheckoutService,
  ) {}

  async get(scope: TenantScope): Promise<AutoTopupView> {
    const [s, customer, lastAttempt] = await Promise.all([this.repo.settings(scope), this.customers.get(scope), this.repo.latestAttempt(scope)]);
    if (!s) throw new DomainError(ErrorCode.NotFound, 'No such tenant');
    return {
      enabled: s.enabled,
      thresholdMicros: s.thresholdMicros,
      amountMicros: s.amountMicros,
      hasPaymentMethod: !!customer?.paymentMethodId,
      consecutiveFailures: s.failures,
      lastAttempt,
    };
  }

  async put(scope: TenantScope, change: AutoTopupChange): Promise<AutoTopupView> {
    if (change.thresholdMicros < 0n) throw new DomainError(ErrorCode.InvalidBody, 'threshold must not be negative', { param: 'threshold' });
    this.checkout.assertTopupAmount(change.amountMicros, 'amount');
    // One top-up from just under the threshold must pass it: a smaller amount would charge the
    // card again and again to climb there.
    if (change.amountMicros < change.thresholdMicros) throw new DomainError(ErrorCode.InvalidBody, 'amount must be at least threshold, so that one top-up lifts the balance above it', { param: 'amount' });
    if (change.enabled && !(await this.customers.get(scope))?.paymentMethodId) {
      throw new DomainError(ErrorCode.InvalidBody, 'Auto top-up needs a saved card: make a top-up with POST /api/billing/checkout and "save_card": true first', { param: 'enabled' });
    }
    await this.repo.updateSettings(scope, change);
    return this.get(scope);
  }
}
