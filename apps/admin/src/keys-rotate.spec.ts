import { randomBytes } from 'node:crypto';
import { loadConfig, newId, SecretBox } from '@gw/core';
import { PrismaService, ProviderCredentialRepository, providerCredentialAad, SealedSecretRepository, TenantRepository, tenantScope } from '@gw/db';
import { rotateSecrets } from './keys-rotate';

const quiet = () => undefined;
const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const v1 = SecretBox.fromConfig(loadConfig({ NODE_ENV: 'test', SECRETS_KEY: k1, SECRETS_KEY_VERSION: '1' }), quiet);
const v2 = SecretBox.fromConfig(loadConfig({ NODE_ENV: 'test', SECRETS_KEY: k2, SECRETS_KEY_VERSION: '2', SECRETS_OLD_KEYS: `1:${k1}` }), quiet);

let prisma: PrismaService;
beforeAll(() => {
  prisma = new PrismaService(loadConfig());
});
afterAll(async () => {
  await prisma?.$disconnect();
});

it('re-encrypts provider keys under the current key version, keeping their plaintext and AAD', async () => {
  const { tenantId } = await new TenantRepository(prisma).createWithOwner({ email: `rot-${Date.now()}@x.test`, passwordHash: 'h', tenantName: 'R' });
  const scope = tenantScope(tenantId);
  const creds = new ProviderCredentialRepository(prisma);
  const id = newId('pk');
  await creds.create(scope, { id, provider: 'openai', sealed: v1.seal('sk-rotate-me-0001', providerCredentialAad(tenantId, id)), last4: '0001', priority: 'first' });

  const report = await rotateSecrets(new SealedSecretRepository(prisma), v2);
  expect(report.failed.filter((f) => f.id === id)).toEqual([]);
  const after = (await creds.get(scope, id))!;
  expect(after.sealed.keyVersion).toBe(2);
  expect(v2.open(after.sealed, after.aad)).toBe('sk-rotate-me-0001');
  // Without the old key (SECRETS_OLD_KEYS dropped) the row still opens: it is now under version 2.
  const only2 = SecretBox.fromConfig(loadConfig({ NODE_ENV: 'test', SECRETS_KEY: k2, SECRETS_KEY_VERSION: '2' }), quiet);
  expect(only2.open(after.sealed, after.aad)).toBe('sk-rotate-me-0001');
  expect(() => v1.open(after.sealed, after.aad)).toThrow();

  // Idempotent: a second run finds nothing of this row to do.
  const again = await rotateSecrets(new SealedSecretRepository(prisma), v2);
  expect(again.failed.filter((f) => f.id === id)).toEqual([]);
  expect((await creds.get(scope, id))!.sealed.keyVersion).toBe(2);
});
