import { Body, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { DeletedView } from '../members/members.dto';
import { ProviderKeysService, providerKeyView } from './provider-keys.service';
import { CreateProviderKeyDto, ListProviderKeysQueryDto, ProviderKeyListView, ProviderKeyView, UpdateProviderKeyDto, VerifyView } from './provider-keys.dto';

/** /api/provider-keys (BYOK): every role sees them (last4 only); owners and admins manage them. */
@AdminController('api/provider-keys')
export class ProviderKeysController {
  constructor(private readonly keys: ProviderKeysService) {}

  @Get()
  @Requires('provider_keys:read')
  @ApiOkResponse({ type: ProviderKeyListView })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListProviderKeysQueryDto) {
    return this.keys.list(scopeOf(p), q);
  }

  @Post()
  @Requires('provider_keys:write')
  @ApiOperation({ summary: 'Add a provider key; encrypted at rest, answered with last4 only' })
  @ApiCreatedResponse({ type: ProviderKeyView })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateProviderKeyDto) {
    return this.keys.create(scopeOf(p), { provider: dto.provider, apiKey: dto.api_key, baseUrl: dto.base_url, label: dto.label, priority: dto.priority ?? 'first' });
  }

  @Get(':id')
  @Requires('provider_keys:read')
  @ApiOkResponse({ type: ProviderKeyView })
  async get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return providerKeyView(await this.keys.get(scopeOf(p), id));
  }

  @Patch(':id')
  @Requires('provider_keys:write')
  @ApiOperation({ summary: 'Change label, priority, the key, or the base URL together with the key' })
  @ApiOkResponse({ type: ProviderKeyView })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateProviderKeyDto) {
    return this.keys.update(scopeOf(p), id, { baseUrl: dto.base_url, apiKey: dto.api_key, label: dto.label, priority: dto.priority });
  }

  @Delete(':id')
  @Requires('provider_keys:write')
  @ApiOkResponse({ type: DeletedView })
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    await this.keys.delete(scopeOf(p), id);
    return { id, deleted: true };
  }

  @Post(':id/verify')
  @Requires('provider_keys:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check the key with a cheap call to the provider' })
  @ApiOkResponse({ type: VerifyView })
  verify(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.keys.verify(scopeOf(p), id);
  }
}
