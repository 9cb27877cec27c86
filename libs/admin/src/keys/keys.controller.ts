import { Body, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { DomainError, ErrorCode, usdToMicros } from '@gw/core';
import type { ApiKeyChanges } from '@gw/db';
import { AdminController } from '../common/admin-controller.decorator';
import { can, Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { ApiKeyService, keyView } from './api-key.service';
import { CreatedKeyView, CreateKeyDto, KeyListView, KeyView, ListKeysQueryDto, RotatedKeyView, RotateKeyDto, UpdateKeyDto } from './keys.dto';

/** /api/keys: owners, admins and developers manage keys; management keys may too (inference keys only). */
@AdminController('api/keys')
export class KeysController {
  constructor(private readonly keys: ApiKeyService) {}

  @Get()
  @Requires('keys:read')
  @ApiOperation({ summary: 'List API keys, newest first' })
  @ApiOkResponse({ type: KeyListView })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListKeysQueryDto) {
    return this.keys.list(scopeOf(p), q);
  }

  @Post()
  @Requires('keys:write')
  @ApiOperation({ summary: 'Create a key; the full key is in this answer only' })
  @ApiCreatedResponse({ type: CreatedKeyView })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateKeyDto) {
    const kind = dto.kind ?? 'inference';
    if (kind === 'management') assertManages(p);
    return this.keys.create(scopeOf(p), { name: dto.name, kind, ...changesOf(dto) });
  }

  @Get(':id')
  @Requires('keys:read')
  @ApiOkResponse({ type: KeyView })
  async get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return keyView(await this.keys.get(scopeOf(p), id));
  }

  @Patch(':id')
  @Requires('keys:write')
  @ApiOperation({ summary: 'Change name, limits, allowed models or expiry; effective on every gateway within a second' })
  @ApiOkResponse({ type: KeyView })
  async update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateKeyDto) {
    await this.assertMayChange(p, id);
    return this.keys.update(scopeOf(p), id, { ...(dto.name !== undefined ? { name: dto.name } : {}), ...changesOf(dto) });
  }

  @Delete(':id')
  @Requires('keys:write')
  @ApiOperation({ summary: 'Revoke a key: refused by every gateway at once' })
  @ApiOkResponse({ type: KeyView })
  async revoke(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    await this.assertMayChange(p, id);
    const scope = scopeOf(p);
    await this.keys.revoke(scope, id);
    return keyView(await this.keys.get(scope, id));
  }

  @Post(':id/rotate')
  @Requires('keys:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Issue a new key with the same settings; the old one works for a grace period' })
  @ApiOkResponse({ type: RotatedKeyView })
  async rotate(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: RotateKeyDto) {
    await this.assertMayChange(p, id);
    return this.keys.rotate(scopeOf(p), id, dto.grace_period_seconds);
  }

  /** Management keys can provision keys; only owners and admins may touch them (404 first: never leak). */
  private async assertMayChange(p: Principal, id: string): Promise<void> {
    const row = await this.keys.get(scopeOf(p), id);
    if (row.kind === 'management') assertManages(p);
  }
}

function assertManages(p: Principal): void {
  if (!can(p, 'keys:manage')) throw new DomainError(ErrorCode.Forbidden, 'Only owners and admins manage management keys', { param: 'kind' });
}

/** DTO (USD, ISO dates, snake_case) to repository changes; absent fields stay unchanged. */
function changesOf(dto: CreateKeyDto | UpdateKeyDto): ApiKeyChanges {
  const c: ApiKeyChanges = {};
  if (dto.allowed_models !== undefined) c.allowedModels = dto.allowed_models;
  if (dto.rpm_limit !== undefined) c.rpmLimit = dto.rpm_limit;
  if (dto.tpm_limit !== undefined) c.tpmLimit = dto.tpm_limit;
  if (dto.credit_limit !== undefined) c.creditLimitMicros = dto.credit_limit === null ? null : usdToMicros(dto.credit_limit);
  if (dto.limit_reset !== undefined) c.limitReset = dto.limit_reset;
  if (dto.include_byok_in_limit !== undefined) c.includeByokInLimit = dto.include_byok_in_limit;
  if (dto.expires_at !== undefined) c.expiresAt = dto.expires_at === null ? null : new Date(dto.expires_at);
  return c;
}
