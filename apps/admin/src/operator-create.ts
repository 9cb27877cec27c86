import 'reflect-metadata';
import { createInterface } from 'node:readline/promises';
import { stdin, stdout } from 'node:process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type AppConfig } from '@gw/core';
import { PrismaService, UserRepository } from '@gw/db';
import { PasswordHasher } from '@gw/admin';

/**
 * `npm run operator:create -- <email> [password]`: creates (or resets) a platform operator.
 * The only way to make an operator; sign-up never does. Needs DATABASE_URL.
 */
/** Without DATABASE_URL, use the embedded database of a running `npm start` (.data/runtime.json). */
function withRunningDatabase(config: AppConfig): AppConfig {
  if (config.DATABASE_URL) return config;
  const file = join(__dirname, '..', '..', '..', '.data', 'runtime.json');
  if (!existsSync(file)) throw new Error('Set DATABASE_URL, or run this while `npm start` is running');
  const { databaseUrl } = JSON.parse(readFileSync(file, 'utf8')) as { databaseUrl: string };
  return { ...config, DATABASE_URL: databaseUrl };
}

async function main() {
  const [email, given] = process.argv.slice(2);
  if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new Error('usage: npm run operator:create -- <email> [password]');
  let password = given;
  if (!password) {
    const rl = createInterface({ input: stdin, output: stdout });
    password = await rl.question('Password (min 12 characters): ');
    rl.close();
  }
  if (password.length < 12) throw new Error('the password must have at least 12 characters');
  const config = withRunningDatabase(loadConfig());
  const prisma = new PrismaService(config);
  try {
    const id = await new UserRepository(prisma).upsertOperator(email, await new PasswordHasher().hash(password));
    console.log(`operator ${email} ready (user ${id}); log in with POST /api/auth/login`);
  } finally {
    await prisma.$disconnect();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
