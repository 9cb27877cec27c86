import { Delete, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { DomainError, ErrorCode, microsToUsd } from '@gw/core';
import { LedgerRepository, TenantRepository, tenantScope, type TenantScope } from '@gw/db';
import { AdminController } from '../common/admin-controller.decorator';
import { ListQueryDto, listOf } from '../common/pagination.dto';
import { OperatorOnly } from '../auth/principal';
import { ApiKeyService, keyView } from '../keys/api-key.service';
import { KeyListView, KeyView, ListKeysQueryDto } from '../keys/keys.dto';

/** Operators look at any tenant and can revoke its keys (abuse, leaks); credits are in operator-credits. */
@AdminController('api/admin/tenants')
@OperatorOnly()
export class OperatorTenantsController {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly ledger: LedgerRepository,
    private readonly keys: ApiKeyService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every tenant, newest first' })
  async list(@Query() q: ListQueryDto) {
    return listOf(await this.tenants.pageAll(q), (t) => ({
      id: t.id,
      name: t.name,
      created_at: t.createdAt.toISOString(),
      members: t._count.users,
      api_keys: t._count.apiKeys,
      provider_keys: t._count.credentials,
    }));
  }

  @Get(':id')
  @ApiOperation({ summary: "A tenant with its ledger balance (USD)" })
  async get(@Param('id') id: string) {
    const t = await this.tenants.findById(id);
    if (!t) throw notFound();
    const totals = await this.ledger.totals(id);
    return { id: t.id, name: t.name, created_at: t.createdAt.toISOString(), credits: microsToUsd(totals.credits), usage: microsToUsd(totals.usage), balance: microsToUsd(totals.balance) };
  }

  @Get(':id/keys')
  @ApiOkResponse({ type: KeyListView })
  async listKeys(@Param('id') id: string, @Query() q: ListKeysQueryDto) {
    return this.keys.list(await this.scope(id), q);
  }

  @Delete(':id/keys/:keyId')
  @ApiOperation({ summary: "Revoke a tenant's key at once on every gateway" })
  @ApiOkResponse({ type: KeyView })
  async revokeKey(@Param('id') id: string, @Param('keyId') keyId: string) {
    const scope = await this.scope(id);
    if (!(await this.keys.revoke(scope, keyId))) throw new DomainError(ErrorCode.NotFound, 'No such API key', { param: 'keyId' });
    return keyView(await this.keys.get(scope, keyId));
  }

  private async scope(id: string): Promise<TenantScope> {
    if (!(await this.tenants.exists(id))) throw notFound();
    return tenantScope(id);
  }
}

function notFound(): DomainError {
  return new DomainError(ErrorCode.NotFound, 'No such tenant', { param: 'id' });
}
