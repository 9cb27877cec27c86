import { loadConfig, newId, SecretBox } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { tenantScope, type TenantScope } from '../tenant-scope';
import { decodeCursor } from '../pagination';
import { TenantRepository } from './tenant.repository';
import { ApiKeyRepository } from './api-key.repository';
import { ProviderCredentialRepository, providerCredentialAad } from './provider-credential.repository';
import { RoutingSettingsRepository } from './routing-settings.repository';
import { InviteRepository } from './invite.repository';
import { MemberRepository } from './member.repository';
import { SealedSecretRepository } from './sealed-secret.repository';

/** Every tenant-owned repository: another tenant's rows are invisible and untouchable. */
let prisma: PrismaService;
let a: TenantScope;
let b: TenantScope;
const box = SecretBox.fromConfig(loadConfig({ NODE_ENV: 'test', SECRETS_KEY: Buffer.alloc(32, 7).toString('base64') }), () => undefined);

beforeAll(async () => {
  prisma = new PrismaService(loadConfig());
  const tenants = new TenantRepository(prisma);
  const stamp = `${Date.now()}-${Math.random()}`;
  a = tenantScope((await tenants.createWithOwner({ email: `a-${stamp}@x.test`, passwordHash: 'h', tenantName: 'A' })).tenantId);
  b = tenantScope((await tenants.createWithOwner({ email: `b-${stamp}@x.test`, passwordHash: 'h', tenantName: 'B' })).tenantId);
});
afterAll(async () => {
  await prisma?.$disconnect();
});

describe('tenant isolation of repositories', () => {
  it('api keys', async () => {
    const keys = new ApiKeyRepository(prisma);
    const k = await keys.create(a, { name: 'a', kind: 'inference', hash: newId('h'), prefix: 'sk-gw-x' });
    expect(await keys.get(b, k.id)).toBeNull();
    expect((await keys.page(b, { limit: 100 })).rows.map((r) => r.id)).not.toContain(k.id);
    expect(await keys.update(b, k.id, { name: 'stolen' })).toBeNull();
    expect(await keys.setStatus(b, k.id, 'revoked')).toBe(false);
    expect(await keys.rotate(b, k.id, { name: 'x', hash: newId('h'), prefix: 'sk-gw-y' }, new Date())).toBeNull();
    expect(await keys.get(a, k.id)).toMatchObject({ name: 'a', status: 'active' });
  });

  it('provider credentials: scoped, sealed, openable only with their own row as AAD', async () => {
    const creds = new ProviderCredentialRepository(prisma);
    const id = newId('cred');
    const c = await creds.create(a, { id, provider: 'openai', sealed: box.seal('sk-tenant-a-secret', providerCredentialAad(a.tenantId, id)), last4: 'cret', priority: 'first' });
    expect(box.open(c.sealed, c.aad)).toBe('sk-tenant-a-secret');
    expect(() => box.open(c.sealed, providerCredentialAad(b.tenantId, id))).toThrow();
    expect(await creds.get(b, id)).toBeNull();
    expect(await creds.listForTenant(b)).toEqual([]);
    expect(await creds.listForProvider(b, 'openai')).toEqual([]);
    expect((await creds.page(b, { limit: 100 })).rows).toEqual([]);
    expect(await creds.update(b, id, { label: 'x' })).toBeNull();
    expect(await creds.delete(b, id)).toBe(false);
    expect((await creds.listForProvider(a, 'openai')).map((x) => x.id)).toEqual([id]);
    const raw = await prisma.providerCredential.findUniqueOrThrow({ where: { id } });
    expect(Buffer.from(raw.ciphertext).toString('latin1')).not.toContain('sk-tenant-a-secret');
  });

  it('orders credentials for the gateway: first before fallback, then oldest first', async () => {
    const creds = new ProviderCredentialRepository(prisma);
    const add = async (priority: 'first' | 'fallback') => {
      const id = newId('cred');
      await creds.create(a, { id, provider: 'anthropic', sealed: box.seal('k', providerCredentialAad(a.tenantId, id)), last4: '', priority });
      return id;
    };
    const f1 = await add('fallback');
    const p1 = await add('first');
    const p2 = await add('first');
    expect((await creds.listForProvider(a, 'anthropic')).map((c) => c.id)).toEqual([p1, p2, f1]);
  });

  it('routing settings', async () => {
    const routing = new RoutingSettingsRepository(prisma);
    await routing.put(a, { aliases: { x: 1 } });
    expect(await routing.get(b)).toBeNull();
    expect((await routing.get(a))?.document).toEqual({ aliases: { x: 1 } });
  });

  it('invites and members', async () => {
    const invites = new InviteRepository(prisma);
    const members = new MemberRepository(prisma);
    const inv = await invites.create(a, { email: `m-${Date.now()}@x.test`, role: 'viewer', tokenHash: newId('t'), invitedBy: null, expiresAt: new Date(Date.now() + 60_000) });
    expect(await invites.get(b, inv.id)).toBeNull();
    expect((await invites.page(b, { limit: 100 })).rows).toEqual([]);
    expect(await invites.deletePending(b, inv.id)).toBe(false);
    const owner = (await members.page(a, { limit: 10 })).rows[0]!;
    expect(await members.get(b, owner.id)).toBeNull();
    expect(await members.changeRole(b, owner.id, 'viewer')).toEqual({ kind: 'not_found' });
    expect(await members.remove(b, owner.id)).toEqual({ kind: 'not_found' });
    // The last owner stays whatever the caller.
    expect(await members.remove(a, owner.id)).toEqual({ kind: 'last_owner' });
    expect(await members.changeRole(a, owner.id, 'admin')).toEqual({ kind: 'last_owner' });
    const accepted = await invites.accept(inv.tokenHash, { passwordHash: 'p', name: null }, new Date());
    expect(accepted).toMatchObject({ tenantId: a.tenantId, role: 'viewer' });
    expect(await invites.accept(inv.tokenHash, { passwordHash: 'p', name: null }, new Date())).toBeNull();
  });

  it('pages with stable keyset cursors and refuses forged ones', async () => {
    const keys = new ApiKeyRepository(prisma);
    for (let i = 0; i < 5; i++) await keys.create(b, { name: `p${i}`, kind: 'inference', hash: newId('h'), prefix: 'sk-gw-p' });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await keys.page(b, { limit: 2, cursor });
      seen.push(...page.rows.map((r) => r.name));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.filter((n) => n.startsWith('p'))).toEqual(['p4', 'p3', 'p2', 'p1', 'p0']);
    expect(() => decodeCursor('garbage')).toThrow(/cursor/);
  });

  it('finds stale sealed secrets for rotation and replaces them only once', async () => {
    const sealed = new SealedSecretRepository(prisma);
    const stale = await sealed.listStale('provider_credentials', 99, undefined, 1000);
    expect(stale.length).toBeGreaterThan(0);
    const ref = stale[0]!;
    const next = { ...box.reseal(ref.sealed, ref.aad), keyVersion: 99 };
    expect(await sealed.replace(ref, next)).toBe(true);
    expect(await sealed.replace(ref, next)).toBe(false);
    expect((await sealed.countByVersion())['99']).toBe(1);
  });
});
