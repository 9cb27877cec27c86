import { AutoTopupRepository } from './auto-topup.repository';
import { LedgerAuditRepository } from './ledger-audit.repository';
import { PaymentRepository } from './payment.repository';
import { StripeCustomerRepository } from './stripe-customer.repository';

/** The billing repositories (payments, Stripe customers, auto top-up, ledger audit), registered by DbModule. */
export const BILLING_REPOSITORIES = [PaymentRepository, StripeCustomerRepository, AutoTopupRepository, LedgerAuditRepository];
