import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EMAIL_PORT, type EmailPort } from '@gw/core';
import { AutoTopupRepository, tenantScope } from '@gw/db';
import { formatUsd } from '@gw/metering';

/**
 * Tells a tenant's owners and billing members about billing events, through the email port when
 * the process has one bound anywhere (it is looked up in the whole application: the email module
 * belongs to the composition root, not to billing), else in the log (a worker without mail must
 * not fail a job for it).
 */
@Injectable()
export class BillingNotifier {
  private readonly logger = new Logger('billing-notify');

  constructor(
    private readonly repo: AutoTopupRepository,
    private readonly modules: ModuleRef,
  ) {}

  private emailPort(): EmailPort | undefined {
    try {
      return this.modules.get<EmailPort>(EMAIL_PORT, { strict: false });
    } catch {
      return undefined;
    }
  }

  async autoTopupDisabled(tenantId: string, amountMicros: bigint, failures: number, reason: string): Promise<void> {
    const subject = 'Auto top-up was turned off';
    const text = [
      `Your auto top-up of ${formatUsd(amountMicros)} USD could not be charged (${reason}${failures ? `; ${failures} failed attempts in a row` : ''}).`,
      'Auto top-up is now off, so requests will be refused once your balance runs out.',
      'Add credits or save a new card with a Checkout top-up, then turn auto top-up on again.',
    ].join('\n\n');
    await this.send(tenantId, subject, text);
  }

  private async send(tenantId: string, subject: string, text: string): Promise<void> {
    const to = await this.repo.billingContacts(tenantScope(tenantId));
    const email = this.emailPort();
    if (!email || to.length === 0) {
      this.logger.warn(`[${tenantId}] ${subject}: ${text.split('\n')[0]}${email ? ' (no billing contact)' : ' (no email port bound)'}`);
      return;
    }
    for (const address of to) {
      await email.send({ to: address, subject, text }).catch((e: unknown) => this.logger.error(`email to ${address} failed: ${(e as Error).message}`));
    }
  }
}
