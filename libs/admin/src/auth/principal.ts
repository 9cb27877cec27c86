import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

/** Who is calling the admin API. */
export type Principal =
  | { kind: 'user'; userId: string; tenantId: string; role: string }
  | { kind: 'operator'; userId?: string }
  | { kind: 'management_key'; keyId: string; tenantId: string };

export const IS_PUBLIC = 'gw:public';
export const Public = () => SetMetadata(IS_PUBLIC, true);

export const OPERATOR_ONLY = 'gw:operator';
export const OperatorOnly = () => SetMetadata(OPERATOR_ONLY, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<{ user: Principal }>().user;
});
