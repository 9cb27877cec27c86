import { Global, Module } from '@nestjs/common';
import { PrismaService } from './prisma.service';
import { TenantRepository } from './repositories/tenant.repository';
import { UserRepository } from './repositories/user.repository';
import { ApiKeyRepository } from './repositories/api-key.repository';
import { LedgerRepository } from './repositories/ledger.repository';
import { CatalogRepository } from './repositories/catalog.repository';
import { RequestLogRepository } from './repositories/request-log.repository';

const repositories = [TenantRepository, UserRepository, ApiKeyRepository, LedgerRepository, CatalogRepository, RequestLogRepository];

@Global()
@Module({ providers: [PrismaService, ...repositories], exports: [PrismaService, ...repositories] })
export class DbModule {}
