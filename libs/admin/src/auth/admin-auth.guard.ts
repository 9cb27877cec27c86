import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DomainError, ErrorCode } from '@gw/core';
import { IS_PUBLIC, OPERATOR_ONLY, type Principal } from './principal';

/** Global guard of /api: authenticated unless @Public, operators only where @OperatorOnly. */
@Injectable()
export class AdminAuthGuard extends AuthGuard('admin-bearer') {
  constructor(private readonly reflector: Reflector) {
    super({ session: false });
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    await (super.canActivate(ctx) as Promise<boolean>);
    const principal = ctx.switchToHttp().getRequest<{ user: Principal }>().user;
    if (this.reflector.getAllAndOverride<boolean>(OPERATOR_ONLY, targets) && principal.kind !== 'operator') {
      throw new DomainError(ErrorCode.Forbidden, 'Operators only');
    }
    return true;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user) throw new DomainError(ErrorCode.Unauthorized, 'Missing or invalid bearer token');
    return user;
  }
}

/** The tenant a principal acts for; operators must use the operator routes. */
export function tenantOf(p: Principal): string {
  if (p.kind === 'operator') throw new DomainError(ErrorCode.Forbidden, 'Operators act on tenants through /api/admin routes');
  return p.tenantId;
}
