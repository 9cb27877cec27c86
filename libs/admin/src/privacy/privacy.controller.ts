import { Body, Get, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { PrivacySettingsDto, PrivacySettingsView } from './privacy.dto';
import { PrivacyService } from './privacy.service';

/** /api/settings/privacy: prompt logging opt-in and how long stored content lives. */
@AdminController('api/settings/privacy')
export class PrivacyController {
  constructor(private readonly privacy: PrivacyService) {}

  @Get()
  @Requires('settings:read')
  @ApiOkResponse({ type: PrivacySettingsView })
  get(@CurrentPrincipal() p: Principal) {
    return this.privacy.get(scopeOf(p));
  }

  @Put()
  @Requires('settings:write')
  @ApiOperation({ summary: 'Opt in or out of storing prompt and completion content, and set its retention; effective on every gateway within a second' })
  @ApiOkResponse({ type: PrivacySettingsView })
  put(@CurrentPrincipal() p: Principal, @Body() dto: PrivacySettingsDto) {
    return this.privacy.put(scopeOf(p), { logContent: dto.log_content, retentionDays: dto.retention_days });
  }
}
