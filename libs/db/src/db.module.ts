import { Global, Module } from '@nestjs/common';
import { PrismaService } from './prisma.service';
import { BILLING_REPOSITORIES } from './repositories/billing-repositories';
import { OBSERVABILITY_REPOSITORIES } from './repositories/observability-repositories';
import { TenantRepository } from './repositories/tenant.repository';
import { UserRepository } from './repositories/user.repository';
import { ApiKeyRepository } from './repositories/api-key.repository';
import { LedgerRepository } from './repositories/ledger.repository';
import { CatalogRepository } from './repositories/catalog.repository';
import { RequestLogRepository } from './repositories/request-log.repository';
import { ProviderCredentialRepository } from './repositories/provider-credential.repository';
import { SealedSecretRepository } from './repositories/sealed-secret.repository';
import { RoutingSettingsRepository } from './repositories/routing-settings.repository';
import { InviteRepository } from './repositories/invite.repository';
import { MemberRepository } from './repositories/member.repository';
import { EmailOutboxRepository } from './repositories/email-outbox.repository';

const repositories = [
  ...BILLING_REPOSITORIES,
  ...OBSERVABILITY_REPOSITORIES,
  TenantRepository,
  UserRepository,
  ApiKeyRepository,
  LedgerRepository,
  CatalogRepository,
  RequestLogRepository,
  ProviderCredentialRepository,
  SealedSecretRepository,
  RoutingSettingsRepository,
  InviteRepository,
  MemberRepository,
  EmailOutboxRepository,
];

@Global()
@Module({ providers: [PrismaService, ...repositories], exports: [PrismaService, ...repositories] })
export class DbModule {}
