import { SetMetadata } from '@nestjs/common';
import type { Principal } from '../auth/principal';

/**
 * What a caller may do on the tenant API, as permissions rather than role names in
 * controllers: a controller says `@Requires('keys:write')`, and this file alone decides which
 * roles (and management keys) have it. A route without @Requires is open to any signed-in user
 * (e.g. change password) but never to a management key.
 */
export type Permission =
  | 'members:read'
  | 'members:write'
  | 'keys:read'
  | 'keys:write'
  /** Create management keys (they can provision keys): owners and admins only. */
  | 'keys:manage'
  | 'provider_keys:read'
  | 'provider_keys:write'
  | 'routing:read'
  | 'routing:write'
  | 'billing:read'
  | 'billing:write'
  | 'usage:read'
  | 'logs:read'
  | 'logs:write'
  | 'settings:read'
  | 'settings:write';

export type Role = 'owner' | 'admin' | 'developer' | 'billing' | 'viewer';

const READ_ALL: Permission[] = ['members:read', 'keys:read', 'provider_keys:read', 'routing:read', 'usage:read', 'logs:read', 'settings:read'];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set<Permission>([...READ_ALL, 'members:write', 'keys:write', 'keys:manage', 'provider_keys:write', 'routing:write', 'billing:read', 'billing:write', 'logs:write', 'settings:write']),
  admin: new Set<Permission>([...READ_ALL, 'members:write', 'keys:write', 'keys:manage', 'provider_keys:write', 'routing:write', 'billing:read', 'billing:write', 'logs:write', 'settings:write']),
  developer: new Set<Permission>([...READ_ALL, 'keys:write', 'routing:write']),
  billing: new Set<Permission>([...READ_ALL, 'billing:read', 'billing:write']),
  viewer: new Set<Permission>(READ_ALL),
};

/** Management keys provision keys and read usage for their tenant; nothing else, never a model. */
export const MANAGEMENT_KEY_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['keys:read', 'keys:write', 'usage:read']);

export const REQUIRES = 'gw:requires';
export const Requires = (...permissions: Permission[]) => SetMetadata(REQUIRES, permissions);

/** Whether a tenant principal holds a permission (operators act through /api/admin instead). */
export function can(p: Principal, permission: Permission): boolean {
  if (p.kind === 'management_key') return MANAGEMENT_KEY_PERMISSIONS.has(permission);
  if (p.kind === 'user') return ROLE_PERMISSIONS[p.role as Role]?.has(permission) ?? false;
  return false;
}
