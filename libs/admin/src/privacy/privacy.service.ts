import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode } from '@gw/core';
import { PrivacySettingsRepository, type PrivacySettings, type TenantScope } from '@gw/db';
import { InvalidationBus } from '@gw/metering';
import type { PrivacySettingsView } from './privacy.dto';

/**
 * A tenant's privacy choices. Gateways read `log_content` through their tenant cache, so every
 * change publishes a `tenant` invalidation: the next request on any gateway sees it.
 */
@Injectable()
export class PrivacyService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly settings: PrivacySettingsRepository,
    private readonly bus: InvalidationBus,
  ) {}

  async get(scope: TenantScope): Promise<PrivacySettingsView> {
    const s = await this.settings.get(scope);
    if (!s) throw new DomainError(ErrorCode.NotFound, 'No such tenant');
    return this.view(s);
  }

  async put(scope: TenantScope, s: PrivacySettings): Promise<PrivacySettingsView> {
    const saved = await this.settings.put(scope, s);
    if (!saved) throw new DomainError(ErrorCode.NotFound, 'No such tenant');
    await this.bus.publish({ type: 'tenant', tenantId: scope.tenantId });
    return this.view(saved);
  }

  private view(s: PrivacySettings): PrivacySettingsView {
    return { log_content: s.logContent, retention_days: s.retentionDays, log_retention_days: this.config.REQUEST_LOG_RETENTION_DAYS };
  }
}
