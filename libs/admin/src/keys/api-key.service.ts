import { Injectable } from '@nestjs/common';
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from '@gw/core';
import { ApiKeyRepository, type TenantScope } from '@gw/db';
import { CreditStore, InvalidationBus } from '@gw/metering';

export interface CreatedApiKey {
  id: string;
  name: string;
  kind: 'inference' | 'management';
  prefix: string;
  /** The full key: returned once, never stored. */
  key: string;
  created_at: string;
}

export interface NewKeyInput {
  name: string;
  kind: 'inference' | 'management';
  rpmLimit?: number | null;
  tpmLimit?: number | null;
  creditLimitMicros?: bigint | null;
  allowedModels?: string[];
  expiresAt?: Date | null;
}

@Injectable()
export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly credits: CreditStore,
    private readonly bus: InvalidationBus,
  ) {}

  async create(scope: TenantScope, input: NewKeyInput): Promise<CreatedApiKey> {
    const key = generateApiKey();
    const row = await this.keys.create(scope, { ...input, hash: hashApiKey(key), prefix: apiKeyDisplayPrefix(key) });
    // Redis holds the authoritative status the reserve script checks on every request.
    await this.credits.setKeyStatus(scope.tenantId, row.id, 'active');
    return { id: row.id, name: row.name, kind: row.kind, prefix: row.prefix, key, created_at: row.createdAt.toISOString() };
  }

  async revoke(scope: TenantScope, id: string): Promise<boolean> {
    const row = await this.keys.get(scope, id);
    if (!row) return false;
    await this.keys.setStatus(scope, id, 'revoked');
    await this.credits.setKeyStatus(scope.tenantId, id, 'revoked');
    await this.bus.publishKeyChanged(row.hash);
    return true;
  }
}
