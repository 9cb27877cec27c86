import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, Clock, hashApiKey, isWellFormedApiKey } from '@gw/core';
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

interface Entry {
  info: KeyInfo | null;
  expiresAt: number;
}

const NEGATIVE_TTL_MS = 5_000;
const MAX_ENTRIES = 100_000;

/**
 * In-process cache of API keys by SHA-256 of the key. Entries live at most KEY_CACHE_TTL_SECONDS,
 * are evicted by an invalidation message, and the whole cache is dropped when the subscriber
 * reconnects (messages may have been missed). Unknown hashes are cached negatively for a few
 * seconds. The Redis key status checked in the reserve script stays the authority on revocation.
 */
@Injectable()
export class KeyCache implements OnModuleInit {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<KeyInfo | null>>();
  private readonly ttlMs: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly keys: ApiKeyRepository,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
  ) {
    this.ttlMs = config.KEY_CACHE_TTL_SECONDS * 1000;
  }

  async onModuleInit(): Promise<void> {
    await this.bus.listen((m) => {
      if (m.type === 'reset') this.entries.clear();
      else if (m.type === 'key') this.entries.delete(m.hash);
      else if (m.type === 'tenant') for (const [h, e] of this.entries) if (e.info?.tenantId === m.tenantId) this.entries.delete(h);
    });
  }

  /** Resolves a presented key; null for malformed, unknown, revoked or expired keys. */
  async resolve(presented: string): Promise<KeyInfo | null> {
    if (!isWellFormedApiKey(presented)) return null;
    const hash = hashApiKey(presented);
    const now = this.clock.now();
    const hit = this.entries.get(hash);
    const info = hit && hit.expiresAt > now ? hit.info : await this.load(hash, now);
    if (!info) return null;
    if (info.status === 'revoked') return null;
    if (info.status === 'rotated' && (info.graceUntilMs === null || info.graceUntilMs <= now)) return null;
    if (info.expiresAtMs !== null && info.expiresAtMs <= now) return null;
    return info;
  }

  private load(hash: string, now: number): Promise<KeyInfo | null> {
    let p = this.inflight.get(hash);
    if (!p) {
      p = this.fetch(hash, now).finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, p);
    }
    return p;
  }

  private async fetch(hash: string, now: number): Promise<KeyInfo | null> {
    const row = await this.keys.findByHash(hash);
    const info: KeyInfo | null = row
      ? {
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
        }
      : null;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(hash, { info, expiresAt: now + (info ? this.ttlMs : NEGATIVE_TTL_MS) });
    return info;
  }
}
