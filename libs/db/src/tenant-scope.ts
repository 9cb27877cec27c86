/**
 * Proof that a caller acts for one tenant. Every tenant-owned repository method takes it first,
 * so a query without a tenant is a type error rather than a data leak.
 */
export interface TenantScope {
  readonly tenantId: string;
  readonly __scope: 'tenant';
}

export function tenantScope(tenantId: string): TenantScope {
  if (!tenantId) throw new Error('empty tenant id');
  return { tenantId, __scope: 'tenant' };
}
