import { AlertDeliveryRepository } from './alert-delivery.repository';
import { AlertRuleRepository } from './alert-rule.repository';
import { AlertSignalsRepository } from './alert-signals.repository';
import { PrivacySettingsRepository } from './privacy-settings.repository';
import { RequestLogQueryRepository } from './request-log-query.repository';
import { RetentionRepository } from './retention.repository';
import { UsageReportRepository } from './usage-report.repository';

/** The observability repositories (request log queries, usage report, privacy, retention, alerts), registered by DbModule. */
export const OBSERVABILITY_REPOSITORIES = [
  RequestLogQueryRepository,
  UsageReportRepository,
  PrivacySettingsRepository,
  RetentionRepository,
  AlertRuleRepository,
  AlertDeliveryRepository,
  AlertSignalsRepository,
];
