import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '@gw/core';

/**
 * For the operator commands (`npm run operator:create`, `keys:rotate`, `usage:recover`): without
 * DATABASE_URL, the embedded database of a running `npm start` (`.data/runtime.json`).
 */
export function withRunningDatabase(config: AppConfig): AppConfig {
  if (config.DATABASE_URL) return config;
  // libs/db/dist (and src) sit three levels below the repository root.
  const file = join(__dirname, '..', '..', '..', '.data', 'runtime.json');
  if (!existsSync(file)) throw new Error('Set DATABASE_URL, or run this while `npm start` is running');
  const { databaseUrl } = JSON.parse(readFileSync(file, 'utf8')) as { databaseUrl: string };
  return { ...config, DATABASE_URL: databaseUrl };
}

/** Runs a command's main: its error message (never a stack) on stderr and exit code 1 on failure. */
export function runCommand(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
