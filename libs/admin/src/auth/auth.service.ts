import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DomainError, ErrorCode } from '@gw/core';
import { Prisma, TenantRepository, UserRepository, tenantScope } from '@gw/db';
import { PasswordHasher } from './password-hasher';
import { ApiKeyService, type CreatedApiKey } from '../keys/api-key.service';
import type { JwtClaims } from './bearer.strategy';

export interface SignupResult {
  token: string;
  tenant: { id: string; name: string };
  user: { id: string; email: string; name: string | null; role: string };
  api_key: CreatedApiKey;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    private readonly apiKeys: ApiKeyService,
  ) {}

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
    const token = await this.sign({ sub: created.userId, tid: created.tenantId, role: created.role });
    return {
      token,
      tenant: { id: created.tenantId, name: input.name ?? email },
      user: { id: created.userId, email, name: input.name ?? null, role: created.role },
      api_key: apiKey,
    };
  }

  async login(email: string, password: string): Promise<{ token: string }> {
    const user = await this.users.findByEmail(email);
    const ok = await this.hasher.verifyOrDummy(user?.passwordHash, password);
    if (!user || !ok) throw new DomainError(ErrorCode.Unauthorized, 'Invalid email or password');
    return { token: await this.sign({ sub: user.id, tid: user.tenantId ?? undefined, role: user.role, op: user.isOperator }) };
  }

  async changePassword(userId: string, current: string, next: string): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user || !(await this.hasher.verify(user.passwordHash, current))) {
      throw new DomainError(ErrorCode.Unauthorized, 'Current password is wrong', { param: 'current_password' });
    }
    await this.users.updatePassword(userId, await this.hasher.hash(next));
  }

  private sign(claims: JwtClaims): Promise<string> {
    return this.jwt.signAsync({ ...claims });
  }
}
