import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, assertPublicUrl, DomainError, ErrorCode, microsToUsd, newId, randomBase62, SecretBox, usdToMicros } from '@gw/core';
import { AlertDeliveryRepository, alertSecretAad, AlertRuleRepository, type AlertDeliveryRow, type AlertKind, type NewAlertRule, type PageRequest, type StoredAlertRule, type TenantScope } from '@gw/db';
import { listOf, type ListResponse } from '../common/pagination.dto';
import type { AlertDeliveryView, AlertView, CreateAlertDto, CreatedAlertView } from './alerts.dto';

/** Rules per tenant: evaluation cost is per rule, and nobody needs more. */
export const MAX_RULES_PER_TENANT = 100;
const DEFAULT_WINDOW_MINUTES = 15;

export function alertView(r: StoredAlertRule): AlertView {
  return {
    id: r.id,
    kind: r.kind,
    threshold: r.thresholdMicros === null ? null : microsToUsd(r.thresholdMicros),
    threshold_rate: r.thresholdRate,
    window_minutes: r.windowMinutes,
    model: r.model,
    provider: r.provider,
    webhook_url: r.webhookUrl,
    enabled: r.enabled,
    state: r.state,
    last_fired_at: r.lastFiredAt?.toISOString() ?? null,
    created_at: r.createdAt.toISOString(),
  };
}

/**
 * Kinds whose readings carry no money. A spend or balance reading (the payload's `observed` and
 * `message`) shows the tenant's spend or balance, which is billing data: callers without
 * billing:read get those deliveries without both. Listed the other way round so a kind added
 * later is withheld until someone decides it shows no money.
 */
const MONEYLESS_KINDS: ReadonlySet<string> = new Set<AlertKind>(['error_rate']);

function deliveryView(d: AlertDeliveryRow, showMoney: boolean): AlertDeliveryView {
  return {
    id: d.id,
    rule_id: d.ruleId,
    status: d.status,
    attempts: d.attempts,
    response_status: d.responseStatus,
    error: d.error,
    payload: showMoney ? d.payload : withoutMoney(d.payload),
    delivered_at: d.deliveredAt?.toISOString() ?? null,
    created_at: d.createdAt.toISOString(),
  };
}

/** The payload with the reading left out unless its rule's kind shows no money (the payload names the kind: the rule may be gone). */
function withoutMoney(payload: unknown): unknown {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return payload;
  const { rule } = payload as { rule?: { kind?: unknown } };
  if (typeof rule?.kind === 'string' && MONEYLESS_KINDS.has(rule.kind)) return payload;
  const kept: Record<string, unknown> = { ...payload };
  delete kept.observed;
  delete kept.message;
  return kept;
}

const bad = (param: string, message: string) => new DomainError(ErrorCode.InvalidBody, message, { param });
const notFound = () => new DomainError(ErrorCode.NotFound, 'No such alert rule', { param: 'id' });

/**
 * Alert rules and their delivery records. The webhook URL passes the same SSRF check as BYOK base
 * URLs (again at connect time when delivering); the signing secret is generated here, answered
 * once and sealed at rest (AES-256-GCM, AAD = its row), like a BYOK key.
 */
@Injectable()
export class AlertsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rules: AlertRuleRepository,
    private readonly deliveries: AlertDeliveryRepository,
    private readonly box: SecretBox,
  ) {}

  async create(scope: TenantScope, dto: CreateAlertDto): Promise<CreatedAlertView> {
    const shape = ruleShape(dto);
    const url = await assertPublicUrl(dto.webhook_url, { allowPrivate: this.config.ALLOW_PRIVATE_PROVIDER_URLS, policy: this.config.urlPolicy, param: 'webhook_url' });
    if ((await this.rules.count(scope)) >= MAX_RULES_PER_TENANT) {
      throw new DomainError(ErrorCode.Conflict, `A tenant has at most ${MAX_RULES_PER_TENANT} alert rules; delete one first`);
    }
    const id = newId('alr');
    const secret = `whsec_${randomBase62(32)}`;
    const rule = await this.rules.create(scope, { id, ...shape, webhookUrl: url.href, sealed: this.box.seal(secret, alertSecretAad(scope.tenantId, id)), enabled: dto.enabled ?? true });
    return { ...alertView(rule), secret };
  }

  async list(scope: TenantScope, req: PageRequest): Promise<ListResponse<AlertView>> {
    return listOf(await this.rules.page(scope, req), alertView);
  }

  async get(scope: TenantScope, id: string): Promise<StoredAlertRule> {
    const r = await this.rules.get(scope, id);
    if (!r) throw notFound();
    return r;
  }

  async delete(scope: TenantScope, id: string): Promise<void> {
    if (!(await this.rules.delete(scope, id))) throw notFound();
  }

  /** `showMoney`: whether the caller may read billing (see MONEYLESS_KINDS). */
  async deliveriesOf(scope: TenantScope, req: PageRequest & { ruleId?: string }, showMoney: boolean): Promise<ListResponse<AlertDeliveryView>> {
    return listOf(await this.deliveries.page(scope, req), (d) => deliveryView(d, showMoney));
  }
}

/** Which fields a kind takes: a field that means nothing for the kind is refused, not ignored. */
function ruleShape(dto: CreateAlertDto): Omit<NewAlertRule, 'id' | 'webhookUrl' | 'sealed' | 'enabled'> {
  if (dto.kind === 'error_rate') {
    if (dto.threshold !== undefined) throw bad('threshold', 'threshold is for spend and balance rules; error_rate rules take threshold_rate');
    if (dto.threshold_rate === undefined) throw bad('threshold_rate', 'threshold_rate is required for error_rate rules');
    return {
      kind: dto.kind,
      thresholdMicros: null,
      thresholdRate: dto.threshold_rate,
      windowMinutes: dto.window_minutes ?? DEFAULT_WINDOW_MINUTES,
      model: dto.model ?? null,
      provider: dto.provider ?? null,
    };
  }
  for (const f of ['threshold_rate', 'window_minutes', 'model', 'provider'] as const) {
    if (dto[f] !== undefined) throw bad(f, `${f} is for error_rate rules only`);
  }
  if (dto.threshold === undefined) throw bad('threshold', `threshold (USD) is required for ${dto.kind} rules`);
  return { kind: dto.kind, thresholdMicros: usdToMicros(dto.threshold), thresholdRate: null, windowMinutes: null, model: null, provider: null };
}
