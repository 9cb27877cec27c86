import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock, DomainError, ErrorCode, hashApiKey, isWellFormedApiKey, RefreshingCache } from '@gw/core';
import { ApiKeyRepository } from '@gw/db';
import { InvalidationBus } from '@gw/metering';

/** What the hot path needs to know about a key, read from Postgres at most once per TTL. */
export interface KeyInfo {
  id: string;
  tenantId: string;
  kind: 'inference' | 'management';
  status: 'active' | 'revoked' | 'rotated';
  name: string;
  rpmLimit: number | null;
  tpmLimit: number | null;
  creditLimitMicros: bigint | null;
  limitReset: 'never' | 'daily' | 'weekly' | 'monthly';
  includeByokInLimit: boolean;
  allowedModels: string[];
  expiresAtMs: number | null;
  graceUntilMs: number | null;
}

const NEGATIVE_TTL_MS = 5_000;
const MAX_ENTRIES = 100_000;
/** While Postgres cannot be read, how often a failure is logged (RefreshingCache retries every 5 s). */
const FAILURE_LOG_MS = 5_000;

/**
 * In-process cache of API keys by SHA-256 of the key. Entries live at most KEY_CACHE_TTL_SECONDS,
 * are evicted by an invalidation message, and the whole cache is dropped when the subscriber
 * reconnects (messages may have been missed). Unknown hashes are cached negatively for a few
 * seconds. The Redis key status checked in the reserve script stays the authority on revocation.
 */
@Injectable()
export class KeyCache implements OnModuleInit {
  private readonly logger = new Logger('key-cache');
  private readonly entries: RefreshingCache<KeyInfo | null>;
  private failureLoggedAt = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly keys: ApiKeyRepository,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
  ) {
    const ttlMs = config.KEY_CACHE_TTL_SECONDS * 1000;
    this.entries = new RefreshingCache<KeyInfo | null>({
      load: (hash) => this.fetch(hash),
      ttlOf: (info) => (info ? ttlMs : NEGATIVE_TTL_MS),
      maxEntries: MAX_ENTRIES,
      now: () => clock.now(),
      onStale: (_hash, e) => this.logger.warn(`Postgres unreadable, serving a cached key past its TTL: ${(e as Error).message}`),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.bus.listen((m) => {
      if (m.type === 'reset') this.entries.clear();
      else if (m.type === 'key') this.entries.delete(m.hash);
      else if (m.type === 'tenant') this.entries.deleteWhere((info) => info?.tenantId === m.tenantId);
    });
  }

  /**
   * Resolves a presented key; null for malformed, unknown, revoked or expired keys. While
   * Postgres cannot be read, a key seen in the last 15 minutes keeps working (the reserve
   * script's key status in Redis stays the authority on revocation); a key not seen: 503.
   */
  async resolve(presented: string): Promise<KeyInfo | null> {
    if (!isWellFormedApiKey(presented)) return null;
    const hash = hashApiKey(presented);
    const now = this.clock.now();
    let info: KeyInfo | null;
    try {
      info = await this.entries.get(hash);
    } catch (e) {
      if (now - this.failureLoggedAt > FAILURE_LOG_MS) {
        this.failureLoggedAt = now;
        this.logger.error(`API key lookup failed: ${(e as Error).message}`);
      }
      throw new DomainError(ErrorCode.ServiceUnavailable, 'API keys cannot be checked right now; retry shortly', { retryAfterSeconds: 5 });
    }
    if (!info) return null;
    if (info.status === 'revoked') return null;
    if (info.status === 'rotated' && (info.graceUntilMs === null || info.graceUntilMs <= now)) return null;
    if (info.expiresAtMs !== null && info.expiresAtMs <= now) return null;
    return info;
  }

  private async fetch(hash: string): Promise<KeyInfo | null> {
    const row = await this.keys.findByHash(hash);
    if (!row) return null;
    return {
      id: row.id,
      tenantId: row.tenantId,
      kind: row.kind,
      status: row.status,
      name: row.name,
      rpmLimit: row.rpmLimit,
      tpmLimit: row.tpmLimit,
      creditLimitMicros: row.creditLimitMicros,
      limitReset: row.limitReset,
      includeByokInLimit: row.includeByokInLimit,
      allowedModels: row.allowedModels,
      expiresAtMs: row.expiresAt?.getTime() ?? null,
      graceUntilMs: row.graceUntil?.getTime() ?? null,
    };
  }
}
