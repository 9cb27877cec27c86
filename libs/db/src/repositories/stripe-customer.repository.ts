import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';

/** One Stripe customer per tenant, with the card saved for off-session charges (if any). */
@Injectable()
export class StripeCustomerRepository {
  constructor(private readonly prisma: PrismaService) {}

  get(scope: TenantScope) {
    return this.prisma.stripeCustomer.findUnique({ where: { tenantId: scope.tenantId } });
  }

  /**
   * Records the tenant's customer unless another request recorded one first; returns the row that
   * stands (two concurrent first checkouts end with one customer).
   */
  async insertIfAbsent(scope: TenantScope, customerId: string) {
    await this.prisma.$executeRaw`
      INSERT INTO stripe_customers (tenant_id, customer_id) VALUES (${scope.tenantId}, ${customerId}) ON CONFLICT DO NOTHING`;
    return this.prisma.stripeCustomer.findUniqueOrThrow({ where: { tenantId: scope.tenantId } });
  }
}
