import { can, MANAGEMENT_KEY_PERMISSIONS, ROLE_PERMISSIONS, type Permission } from './permissions';

const user = (role: string) => ({ kind: 'user' as const, userId: 'u', tenantId: 't', role });

describe('permissions', () => {
  it('follows the role rules: owner/admin manage members and keys, developer keys, billing billing, viewer reads', () => {
    expect(can(user('owner'), 'members:write')).toBe(true);
    expect(can(user('admin'), 'members:write')).toBe(true);
    expect(can(user('developer'), 'members:write')).toBe(false);
    expect(can(user('developer'), 'keys:write')).toBe(true);
    expect(can(user('developer'), 'keys:manage')).toBe(false);
    expect(can(user('developer'), 'billing:read')).toBe(false);
    expect(can(user('billing'), 'billing:write')).toBe(true);
    expect(can(user('billing'), 'keys:write')).toBe(false);
    expect(can(user('viewer'), 'keys:read')).toBe(true);
    expect(can(user('viewer'), 'billing:read')).toBe(false);
    expect(can(user('unknown-role'), 'keys:read')).toBe(false);
  });

  it('viewers only read', () => {
    for (const p of ROLE_PERMISSIONS.viewer) expect(p.endsWith(':read')).toBe(true);
  });

  it('management keys: the key and usage endpoints only; operators act through /api/admin', () => {
    expect([...MANAGEMENT_KEY_PERMISSIONS].sort()).toEqual<Permission[]>(['keys:read', 'keys:write', 'usage:read']);
    expect(can({ kind: 'management_key', keyId: 'k', tenantId: 't' }, 'members:read')).toBe(false);
    expect(can({ kind: 'operator' }, 'keys:read')).toBe(false);
  });
});
