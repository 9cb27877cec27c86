import 'reflect-metadata';
import { loadConfig, SecretBox } from '@gw/core';
import { PrismaService, runCommand, SealedSecretRepository, withRunningDatabase, type SealedSecretRef } from '@gw/db';

/**
 * `npm run keys:rotate`: re-encrypts every sealed secret (BYOK provider keys, alert webhook
 * secrets) with the current key-encryption key. Rotation procedure (README, BYOK):
 *   1. generate a key: `openssl rand -base64 32`;
 *   2. set SECRETS_KEY to it, bump SECRETS_KEY_VERSION, and move the previous key into
 *      SECRETS_OLD_KEYS (`<old version>:<old key>`); restart the processes (they read both);
 *   3. run this; when it reports nothing left under old versions, drop SECRETS_OLD_KEYS.
 * Safe to re-run and to run while the gateway serves: each row is replaced only if it still holds
 * what was read, and the AAD (the owning row) is unchanged. Needs DATABASE_URL (or a running
 * `npm start`).
 */
const BATCH = 200;

export interface RotationReport {
  resealed: number;
  skipped: number;
  failed: Array<{ table: string; id: string; reason: string }>;
  remaining: Record<string, number>;
}

/** The rotation itself, apart from process wiring so it can be tested against a database. */
export async function rotateSecrets(repo: SealedSecretRepository, box: SecretBox, log: (line: string) => void = () => undefined): Promise<RotationReport> {
  const report: RotationReport = { resealed: 0, skipped: 0, failed: [], remaining: {} };
  for (const table of ['provider_credentials', 'alert_rules'] as const) {
    let after: string | undefined;
    for (;;) {
      const batch: SealedSecretRef[] = await repo.listStale(table, box.currentVersion, after, BATCH);
      if (batch.length === 0) break;
      for (const ref of batch) {
        try {
          if (await repo.replace(ref, box.reseal(ref.sealed, ref.aad))) report.resealed++;
          else report.skipped++;
        } catch (e) {
          // Never print the secret: the error of SecretBox names only the version.
          report.failed.push({ table, id: ref.id, reason: (e as Error).message });
        }
      }
      after = batch[batch.length - 1]!.id;
      log(`${table}: ${report.resealed} re-encrypted so far`);
    }
  }
  report.remaining = Object.fromEntries(Object.entries(await repo.countByVersion()).filter(([v]) => Number(v) !== box.currentVersion));
  return report;
}

async function main() {
  const config = withRunningDatabase(loadConfig());
  const box = SecretBox.fromConfig(config, (m) => console.warn(m));
  const prisma = new PrismaService(config);
  try {
    const report = await rotateSecrets(new SealedSecretRepository(prisma), box, (line) => console.log(line));
    console.log(`key version ${box.currentVersion}: ${report.resealed} secrets re-encrypted, ${report.skipped} changed concurrently (re-run to pick them up)`);
    for (const f of report.failed) console.error(`could not re-encrypt ${f.table} ${f.id}: ${f.reason}`);
    const left = Object.entries(report.remaining);
    if (left.length === 0) console.log('no secret is sealed with an older key: SECRETS_OLD_KEYS can be removed');
    else console.log(`still sealed with older keys: ${left.map(([v, n]) => `version ${v}: ${n}`).join(', ')}`);
    if (report.failed.length) process.exitCode = 1;
  } finally {
    await prisma.$disconnect();
  }
}

if (require.main === module) runCommand(main);
