import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, apiKeyDisplayPrefix, Clock, DomainError, ErrorCode, generateApiKey, hashApiKey, microsToUsd } from '@gw/core';
import { ApiKeyRepository, type ApiKeyChanges, type PageRequest, type TenantScope } from '@gw/db';
import { InvalidationBus } from '@gw/metering';
import { listOf, type ListResponse } from '../common/pagination.dto';
import { KeyStatusStore } from './key-status.store';
import type { CreatedKeyView, KeyView, RotatedKeyView } from './keys.dto';

/** The full key travels only in this answer (create, rotate, sign-up). */
export type CreatedApiKey = CreatedKeyView;

export interface NewKeyInput {
  name: string;
  kind: 'inference' | 'management';
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  creditLimitMicros?: bigint | null;
  limitReset?: 'never' | 'daily' | 'weekly' | 'monthly';
  includeByokInLimit?: boolean;
  allowedModels?: string[];
  expiresAt?: Date | null;
}

type KeyRow = NonNullable<Awaited<ReturnType<ApiKeyRepository['get']>>>;

export function keyView(r: KeyRow): KeyView {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    prefix: r.prefix,
    status: r.status,
    allowed_models: r.allowedModels,
    rpm_limit: r.rpmLimit,
    tpm_limit: r.tpmLimit,
    credit_limit: r.creditLimitMicros === null ? null : microsToUsd(r.creditLimitMicros),
    limit_reset: r.limitReset,
    include_byok_in_limit: r.includeByokInLimit,
    expires_at: r.expiresAt?.toISOString() ?? null,
    grace_until: r.graceUntil?.toISOString() ?? null,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

/**
 * Tenant API keys. Every change lands in three places, in this order: Postgres (the record),
 * the Redis key status (what the reserve script enforces on every gateway, at once), and a
 * pub/sub eviction (so gateways drop their cached copy and pick up new limits within a second).
 */
@Injectable()
export class ApiKeyService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: ApiKeyRepository,
    private readonly status: KeyStatusStore,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
  ) {}

  async create(scope: TenantScope, input: NewKeyInput): Promise<CreatedApiKey> {
    this.assertFuture(input.expiresAt);
    const key = generateApiKey();
    const row = await this.keys.create(scope, { ...input, hash: hashApiKey(key), prefix: apiKeyDisplayPrefix(key) });
    await this.status.write(row, this.clock.now());
    return { ...keyView(row), key };
  }

  async list(scope: TenantScope, req: PageRequest & { status?: KeyRow['status']; kind?: KeyRow['kind'] }): Promise<ListResponse<KeyView>> {
    return listOf(await this.keys.page(scope, req), keyView);
  }

  async get(scope: TenantScope, id: string): Promise<KeyRow> {
    const row = await this.keys.get(scope, id);
    if (!row) throw notFound();
    return row;
  }

  async update(scope: TenantScope, id: string, changes: ApiKeyChanges): Promise<KeyView> {
    const current = await this.get(scope, id);
    if (current.status === 'revoked') throw new DomainError(ErrorCode.Conflict, 'This key is revoked; create a new one');
    if (changes.expiresAt !== undefined) this.assertFuture(changes.expiresAt);
    const row = await this.keys.update(scope, id, changes);
    if (!row) throw notFound();
    await this.propagate(row);
    return keyView(row);
  }

  /** Revokes at once on every gateway. Idempotent: revoking again re-asserts the Redis status. */
  async revoke(scope: TenantScope, id: string): Promise<boolean> {
    const row = await this.keys.get(scope, id);
    if (!row) return false;
    await this.keys.setStatus(scope, id, 'revoked', row.graceUntil);
    await this.propagate({ ...row, status: 'revoked' });
    return true;
  }

  /**
   * A new secret with the same settings; the old key becomes `rotated` and keeps working until
   * its grace period ends (0: stops now). Both keys' Redis statuses are written before answering.
   * An expired key is refused (409): its successor would inherit `expires_at` and be born expired,
   * a secret shown once that never works; the tenant extends `expires_at` first or creates a key.
   */
  async rotate(scope: TenantScope, id: string, graceSeconds = this.config.KEY_ROTATION_GRACE_SECONDS): Promise<RotatedKeyView> {
    const old = await this.get(scope, id);
    if (old.status !== 'active') throw new DomainError(ErrorCode.Conflict, `Only an active key can be rotated (this one is ${old.status})`);
    const now = this.clock.now();
    if (old.expiresAt && old.expiresAt.getTime() <= now) {
      throw new DomainError(ErrorCode.Conflict, `This key expired at ${old.expiresAt.toISOString()}; set a later expires_at first, or create a new key`, { param: 'expires_at' });
    }
    const key = generateApiKey();
    const r = await this.keys.rotate(
      scope,
      id,
      {
        name: old.name,
        hash: hashApiKey(key),
        prefix: apiKeyDisplayPrefix(key),
        rpmLimit: old.rpmLimit,
        tpmLimit: old.tpmLimit,
        creditLimitMicros: old.creditLimitMicros,
        limitReset: old.limitReset,
        includeByokInLimit: old.includeByokInLimit,
        allowedModels: old.allowedModels,
        expiresAt: old.expiresAt,
      },
      new Date(now + graceSeconds * 1000),
    );
    if (!r) throw new DomainError(ErrorCode.Conflict, 'This key changed while rotating; try again');
    await this.status.write(r.created, now);
    await this.propagate(r.old, now);
    return { key: { ...keyView(r.created), key }, rotated: keyView(r.old) };
  }

  private async propagate(row: KeyRow, now = this.clock.now()): Promise<void> {
    await this.status.write(row, now);
    await this.bus.publishKeyChanged(row.hash);
  }

  private assertFuture(at: Date | null | undefined): void {
    if (at && at.getTime() <= this.clock.now()) {
      throw new DomainError(ErrorCode.InvalidBody, 'expires_at must be in the future', { param: 'expires_at' });
    }
  }
}

function notFound(): DomainError {
  return new DomainError(ErrorCode.NotFound, 'No such API key', { param: 'id' });
}
