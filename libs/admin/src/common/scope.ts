import { tenantScope, type TenantScope } from '@gw/db';
import { tenantOf } from '../auth/admin-auth.guard';
import type { Principal } from '../auth/principal';

/** The tenant scope a principal acts in (operators are refused: they use /api/admin routes). */
export function scopeOf(p: Principal): TenantScope {
  return tenantScope(tenantOf(p));
}

/** The user id behind a principal, when a person (not a key) is calling. */
export function actorOf(p: Principal): string | null {
  return p.kind === 'management_key' ? null : (p.userId ?? null);
}
