import { Injectable, Logger } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DomainError, ErrorCode } from '@gw/core';
import { Prisma, TenantRepository, UserRepository, tenantScope } from '@gw/db';
import { CreditSync } from '@gw/billing';
import { PasswordHasher } from './password-hasher';
import { ApiKeyService, type CreatedApiKey } from '../keys/api-key.service';
import type { JwtClaims } from './bearer.strategy';
import { AuthThrottle } from './auth-throttle';
import { passwordVersion } from './password-version';

export interface SignupResult {
  token: string;
  tenant: { id: string; name: string };
  user: { id: string; email: string; name: string | null; role: string };
  api_key: CreatedApiKey;
}

@Injectable()
export class AuthService {
  private readonly logger = new Logger('auth');

  constructor(
    private readonly tenants: TenantRepository,
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly apiKeys: ApiKeyService,
    private readonly throttle: AuthThrottle,
    private readonly credits: CreditSync,
  ) {}

  /** Sign-up from the API: rate limited per client IP before any work. */
  async signupFrom(ip: string, input: { email: string; password: string; name?: string }): Promise<SignupResult> {
    await this.throttle.take(this.throttle.signupBuckets(ip));
    return this.signup(input);
  }

  /** Creates a tenant, its owner and a first API key (shown once). Never creates an operator. */
  async signup(input: { email: string; password: string; name?: string }): Promise<SignupResult> {
    const email = input.email.toLowerCase();
    const passwordHash = await this.hasher.hash(input.password);
    let created: { tenantId: string; userId: string; role: string };
    try {
      created = await this.tenants.createWithOwner({ email, passwordHash, name: input.name, tenantName: input.name ?? email });
    } catch (e) {
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') {
        throw new DomainError(ErrorCode.Conflict, 'An account with this email already exists', { param: 'email' });
      }
      throw e;
    }
    const apiKey = await this.apiKeys.create(tenantScope(created.tenantId), { name: 'default', kind: 'inference' });
    // The new tenant's balance (zero) in Redis now: its first request is a clear 402, not the 503
    // a gateway answers while it rebuilds a balance it has never seen. Best effort: that rebuild
    // covers a Redis blip here.
    await this.credits.sync(created.tenantId).catch((e: unknown) => this.logger.warn(`balance of new tenant ${created.tenantId} not written to Redis yet: ${(e as Error).message}`));
    const token = await this.sign({ sub: created.userId, tid: created.tenantId, role: created.role, pv: passwordVersion(passwordHash) });
    return {
      token,
      tenant: { id: created.tenantId, name: input.name ?? email },
      user: { id: created.userId, email, name: input.name ?? null, role: created.role },
      api_key: apiKey,
    };
  }

  /**
   * Failed attempts count per IP and per account; either limit reached means 429 before the
   * password is even checked, so guessing is capped however many IPs or accounts are tried.
   */
  async login(email: string, password: string, ip = 'unknown'): Promise<{ token: string }> {
    const buckets = this.throttle.loginBuckets(ip, email);
    await this.throttle.take(buckets);
    const user = await this.users.findByEmail(email);
    const ok = await this.hasher.verifyOrDummy(user?.passwordHash, password);
    if (!user || !ok) throw new DomainError(ErrorCode.Unauthorized, 'Invalid email or password');
    await this.throttle.giveBack(buckets);
    await this.throttle.clear(buckets[1]!);
    return { token: await this.tokenFor(user) };
  }

  /**
   * Changes the password and returns a new session; older sessions stop working (their `pv` no
   * longer matches). Wrong current passwords count toward the account's login failures.
   */
  async changePassword(userId: string, current: string, next: string, ip = 'unknown'): Promise<{ token: string }> {
    const user = await this.users.findById(userId);
    if (!user) throw new DomainError(ErrorCode.Unauthorized, 'Current password is wrong', { param: 'current_password' });
    const buckets = this.throttle.loginBuckets(ip, user.email);
    await this.throttle.take(buckets);
    if (!(await this.hasher.verify(user.passwordHash, current))) {
      throw new DomainError(ErrorCode.Unauthorized, 'Current password is wrong', { param: 'current_password' });
    }
    await this.throttle.giveBack(buckets);
    const updated = await this.users.updatePassword(userId, await this.hasher.hash(next));
    return { token: await this.tokenFor(updated) };
  }

  tokenFor(user: { id: string; tenantId: string | null; role: string; isOperator: boolean; passwordHash: string }): Promise<string> {
    return this.sign({ sub: user.id, tid: user.tenantId ?? undefined, role: user.role, op: user.isOperator, pv: passwordVersion(user.passwordHash) });
  }

  private sign(claims: JwtClaims): Promise<string> {
    return this.jwt.signAsync({ ...claims });
  }
}
