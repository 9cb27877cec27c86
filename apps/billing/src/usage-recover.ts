import 'reflect-metadata';
import { loadConfig, microsToUsd } from '@gw/core';
import { LedgerRepository, PrismaService, RequestLogRepository, runCommand, withRunningDatabase } from '@gw/db';
import { recoverUsage } from '@gw/billing';

/**
 * `npm run usage:recover -- [--apply] [--since T] [--min-age-minutes N] <journal dir or files>...`: after a
 * Redis data loss, writes to the ledger the charges the gateways journaled (USAGE_JOURNAL_DIR)
 * that never reached it. Without `--apply` it only reports them. Safe to run twice and while
 * everything runs: each charge is written once (unique ledger keys). Needs DATABASE_URL (or a
 * running `npm start`); the billing worker's reconciliation then brings Redis to the ledger.
 */
const USAGE = 'usage: npm run usage:recover -- [--apply] [--since <ISO time>] [--min-age-minutes N] <journal dir or files>...';

function argsOf(argv: string[]): { apply: boolean; minAgeMs: number; sinceMs?: number; paths: string[] } {
  let apply = false;
  let minAgeMs = 10 * 60_000;
  let sinceMs: number | undefined;
  const paths: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--apply') apply = true;
    else if (a === '--min-age-minutes') {
      const raw = argv[++i] ?? '';
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error('--min-age-minutes takes a number of minutes (0 or more)');
      minAgeMs = n * 60_000;
    } else if (a === '--since') {
      sinceMs = Date.parse(argv[++i] ?? '');
      if (Number.isNaN(sinceMs)) throw new Error('--since takes a time, e.g. 2026-11-26T18:00:00Z');
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else paths.push(a);
  }
  if (paths.length === 0) throw new Error(USAGE);
  return { apply, minAgeMs, sinceMs, paths };
}

async function main() {
  const args = argsOf(process.argv.slice(2));
  const config = withRunningDatabase(loadConfig());
  const prisma = new PrismaService(config);
  try {
    const r = await recoverUsage(args.paths, { prisma, ledger: new LedgerRepository(prisma), logs: new RequestLogRepository(prisma) }, args);
    console.log(`${r.files} journal file(s), ${r.lines} line(s), ${r.entries} charge(s): ${r.inLedger} in the ledger, ${r.tooRecent} too recent to judge, ${r.skipped} before --since, ${r.unreadable} unreadable line(s)`);
    console.log(`missing from the ledger: ${r.missing.requests} request(s), ${microsToUsd(r.missing.costMicros)} USD of usage and ${microsToUsd(r.missing.byokFeeMicros)} USD of BYOK fees`);
    for (const [tenant, t] of Object.entries(r.missing.byTenant)) console.log(`  ${tenant}: ${t.requests} request(s), ${microsToUsd(t.micros)} USD`);
    if (args.apply) {
      console.log(`written: ${r.written} ledger entr${r.written === 1 ? 'y' : 'ies'}; the next reconciliation brings Redis to the ledger`);
      for (const f of r.refused) console.log(`  not written: ${f.requestId} (tenant ${f.tenantId}): ${f.reason}`);
    } else if (r.missing.requests > 0) console.log('nothing written: run again with --apply to write them');
  } finally {
    await prisma.$disconnect();
  }
}

if (require.main === module) runCommand(main);
