import { Body, Delete, Get, Inject, Param, Put, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode, microsToUsd, platformCapsSchema, type PlatformCaps } from '@gw/core';
import { LedgerRepository, TenantRepository, tenantScope, type TenantScope } from '@gw/db';
import { InvalidationBus } from '@gw/metering';
import { PROVIDER_IDS } from '../provider-keys/provider-keys.dto';
import { PLATFORM_CAP_MODELS, PlatformCapsDto, PlatformCapsView } from './platform-caps.dto';
import { AdminController } from '../common/admin-controller.decorator';
import { ListQueryDto, listOf } from '../common/pagination.dto';
import { OperatorOnly } from '../auth/principal';
import { ApiKeyService, keyView } from '../keys/api-key.service';
import { KeyListView, KeyView, ListKeysQueryDto } from '../keys/keys.dto';

/** Operators look at any tenant and can revoke its keys (abuse, leaks); credits are in operator-credits. */
@AdminController('api/admin/tenants')
@OperatorOnly()
@ApiExtraModels(...PLATFORM_CAP_MODELS)
export class OperatorTenantsController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tenants: TenantRepository,
    private readonly ledger: LedgerRepository,
    private readonly keys: ApiKeyService,
    private readonly bus: InvalidationBus,
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

  @Get(':id/platform-caps')
  @ApiOperation({ summary: "The tenant's caps on the platform's own provider credentials" })
  @ApiOkResponse({ type: PlatformCapsView })
  async getCaps(@Param('id') id: string): Promise<PlatformCapsView> {
    const t = await this.tenants.findById(id);
    if (!t) throw notFound();
    return t.platformCaps == null ? { caps: this.config.PLATFORM_TENANT_CAPS, source: 'platform' } : { caps: t.platformCaps as PlatformCaps, source: 'tenant' };
  }

  @Put(':id/platform-caps')
  @ApiOperation({ summary: 'Override PLATFORM_TENANT_CAPS for this tenant (every gateway within a second)' })
  @ApiOkResponse({ type: PlatformCapsView })
  async putCaps(@Param('id') id: string, @Body() dto: PlatformCapsDto): Promise<PlatformCapsView> {
    const parsed = platformCapsSchema.safeParse(dto.caps);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = ['caps', ...issue.path.map(String)].join('.');
      throw new DomainError(ErrorCode.InvalidBody, `${param}: ${issue.message}`, { param });
    }
    const unknown = Object.keys(parsed.data).find((p) => p !== '*' && !PROVIDER_IDS.includes(p));
    if (unknown) throw new DomainError(ErrorCode.InvalidBody, `caps.${unknown}: not a provider (${PROVIDER_IDS.join(', ')}) or *`, { param: `caps.${unknown}` });
    if (!(await this.tenants.setPlatformCaps(id, parsed.data))) throw notFound();
    await this.bus.publish({ type: 'tenant', tenantId: id });
    return { caps: parsed.data, source: 'tenant' };
  }

  @Delete(':id/platform-caps')
  @ApiOperation({ summary: 'Back to the platform default (PLATFORM_TENANT_CAPS)' })
  @ApiOkResponse({ type: PlatformCapsView })
  async resetCaps(@Param('id') id: string): Promise<PlatformCapsView> {
    if (!(await this.tenants.setPlatformCaps(id, null))) throw notFound();
    await this.bus.publish({ type: 'tenant', tenantId: id });
    return { caps: this.config.PLATFORM_TENANT_CAPS, source: 'platform' };
  }

  private async scope(id: string): Promise<TenantScope> {
    if (!(await this.tenants.exists(id))) throw notFound();
    return tenantScope(id);
  }
}

function notFound(): DomainError {
  return new DomainError(ErrorCode.NotFound, 'No such tenant', { param: 'id' });
}
