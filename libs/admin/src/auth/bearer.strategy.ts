import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, type AppConfig, DomainError, secretsEqual, ErrorCode, hashApiKey, INVALID_API_KEY_MESSAGE, isWellFormedApiKey } from '@gw/core';
import { ApiKeyRepository, UserRepository } from '@gw/db';
import type { Principal } from './principal';
import { passwordVersion } from './password-version';
import { AuthorizationHeaderStrategy } from './authorization-header.strategy';

export interface JwtClaims {
  sub: string;
  tid?: string;
  role?: string;
  op?: boolean;
  /** Password version (password-version.ts): a password change ends older sessions. */
  pv?: string;
}

/**
 * One bearer credential, three kinds of caller: the operator's ADMIN_TOKEN, a tenant's
 * management key (`sk-gw-...` of kind management), or a user's JWT. Read from the Authorization
 * header only (see AuthorizationHeaderStrategy).
 */
@Injectable()
export class AdminBearerStrategy extends PassportStrategy(AuthorizationHeaderStrategy, 'admin-bearer') {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jwt: JwtService,
    private readonly keys: ApiKeyRepository,
    private readonly users: UserRepository,
  ) {
    super();
  }

  async validate(token: string): Promise<Principal> {
    if (this.config.ADMIN_TOKEN && secretsEqual(token, this.config.ADMIN_TOKEN)) return { kind: 'operator' };
    if (token.startsWith('sk-')) return this.managementKey(token);
    let claims: JwtClaims;
    try {
      claims = await this.jwt.verifyAsync<JwtClaims>(token);
    } catch {
      throw new DomainError(ErrorCode.Unauthorized, 'Invalid or expired token');
    }
    const user = await this.users.findById(claims.sub);
    // Read on every call (no cache): a removed member or a changed role takes effect at once.
    if (!user || claims.pv !== passwordVersion(user.passwordHash)) throw new DomainError(ErrorCode.Unauthorized, 'Invalid or expired token');
    if (user.isOperator) return { kind: 'operator', userId: user.id };
    if (!user.tenantId) throw new DomainError(ErrorCode.Unauthorized, 'Invalid or expired token');
    return { kind: 'user', userId: user.id, tenantId: user.tenantId, role: user.role };
  }

  private async managementKey(token: string): Promise<Principal> {
    const row = isWellFormedApiKey(token) ? await this.keys.findByHash(hashApiKey(token)) : null;
    const now = Date.now();
    // Same rule as the gateway's key cache: a rotated key works until its grace period ends.
    const live = row && (row.status === 'active' || (row.status === 'rotated' && row.graceUntil !== null && row.graceUntil.getTime() > now));
    const usable = live && (!row.expiresAt || row.expiresAt.getTime() > now);
    if (!row || !usable) throw new DomainError(ErrorCode.InvalidApiKey, INVALID_API_KEY_MESSAGE);
    if (row.kind !== 'management') throw new DomainError(ErrorCode.Forbidden, 'Inference keys cannot call the admin API; use a management key');
    return { kind: 'management_key', keyId: row.id, tenantId: row.tenantId };
  }
}
