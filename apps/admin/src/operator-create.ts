import 'reflect-metadata';
import { createInterface } from 'node:readline/promises';
import { stdin, stdout } from 'node:process';
import { loadConfig } from '@gw/core';
import { PrismaService, runCommand, UserRepository, withRunningDatabase } from '@gw/db';
import { PasswordHasher } from '@gw/admin';

/**
 * `npm run operator:create -- <email> [password]`: creates (or resets) a platform operator.
 * The only way to make an operator; sign-up never does. Needs DATABASE_URL.
 */
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

runCommand(main);
