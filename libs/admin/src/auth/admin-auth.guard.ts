import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DomainError, ErrorCode, repeatsCredentialHeaders } from '@gw/core';
import { IS_PUBLIC, OPERATOR_ONLY, type Principal } from './principal';
import { MANAGEMENT_KEY_PERMISSIONS, REQUIRES, ROLE_PERMISSIONS, type Permission, type Role } from '../common/permissions';

/**
 * Guard of /api: authenticated unless @Public; operators only where @OperatorOnly; otherwise the
 * caller must hold every permission of @Requires (common/permissions.ts). Permissions are checked
 * before any object is looked up, so a refusal says nothing about whether an id exists.
 */
@Injectable()
export class AdminAuthGuard extends AuthGuard('admin-bearer') {
  constructor(private readonly reflector: Reflector) {
    super({ session: false });
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const raw = ctx.switchToHttp().getRequest<{ raw?: { rawHeaders?: string[] } }>().raw?.rawHeaders;
    if (raw && repeatsCredentialHeaders(raw)) throw new DomainError(ErrorCode.Unauthorized, 'Missing or invalid bearer token');
    await (super.canActivate(ctx) as Promise<boolean>);
    const principal = ctx.switchToHttp().getRequest<{ user: Principal }>().user;
    if (this.reflector.getAllAndOverride<boolean>(OPERATOR_ONLY, targets)) {
      if (principal.kind !== 'operator') throw new DomainError(ErrorCode.Forbidden, 'Operators only');
      return true;
    }
    const required = this.reflector.getAllAndOverride<Permission[] | undefined>(REQUIRES, targets) ?? [];
    assertPermitted(principal, required);
    return true;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user) throw new DomainError(ErrorCode.Unauthorized, 'Missing or invalid bearer token');
    return user;
  }
}

function assertPermitted(p: Principal, required: Permission[]): void {
  if (p.kind === 'management_key') {
    // Default deny: a route must grant management keys explicitly.
    if (required.length === 0 || !required.every((r) => MANAGEMENT_KEY_PERMISSIONS.has(r))) {
      throw new DomainError(ErrorCode.Forbidden, 'Management keys can only call the key and usage endpoints');
    }
    return;
  }
  if (p.kind === 'operator') {
    if (required.length > 0) throw new DomainError(ErrorCode.Forbidden, 'Operators act on tenants through /api/admin routes');
    return;
  }
  const granted = ROLE_PERMISSIONS[p.role as Role];
  const missing = required.find((r) => !granted?.has(r));
  if (missing) throw new DomainError(ErrorCode.Forbidden, `The ${p.role} role cannot do this (needs ${missing})`);
}

/** The tenant a principal acts for; operators must use the operator routes. */
export function tenantOf(p: Principal): string {
  if (p.kind === 'operator') throw new DomainError(ErrorCode.Forbidden, 'Operators act on tenants through /api/admin routes');
  return p.tenantId;
}
