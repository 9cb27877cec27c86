import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisKeys } from '@gw/metering';
import { recoverUsage } from '@gw/billing';
import { LedgerRepository, RequestLogRepository } from '@gw/db';
import { fundedTenant, startTestApp, type TestApp } from './support/test-app';
import { UsageJournal } from '../libs/gateway/src/chat/usage-journal';

/**
 * The usage journal (reliability T57): usage that Redis loses before the billing worker wrote it
 * to Postgres is written to the ledger from the gateways' journals, once.
 */
jest.setTimeout(60_000);
let t: TestApp;
const dir = mkdtempSync(join(tmpdir(), 'gw-journal-'));

beforeAll(async () => {
  t = await startTestApp({ USAGE_JOURNAL_DIR: dir }, { billingWorker: false });
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const journalLines = () =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
}

const ledgerSum = async (tenantId: string) => (await t.prisma.ledgerEntry.findMany({ where: { tenantId } })).reduce((a, r) => a + r.amountMicros, 0n);

describe('usage lost with Redis, recovered from the journal', () => {
  it('journals every charged request and writes to the ledger exactly the charges it lacks, once', async () => {
    const { client, tenantId } = await fundedTenant(t, 5);
    const db = { prisma: t.prisma, ledger: t.app.get(LedgerRepository), logs: t.app.get(RequestLogRepository) };
    const ask = (i: number) => {
      t.openai.enqueue({ text: `answer ${i}`, promptTokens: 100 * (i + 1), completionTokens: 10 * (i + 1) });
      return client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `q${i}` }] });
    };
    // Two requests reach the ledger the usual way.
    const drained = [await ask(0), await ask(1)];
    await t.drain();
    // Three more settle in Redis; then Redis loses their usage events before any drain.
    const lost = [await ask(2), await ask(3), await ask(4)];
    const keys = new RedisKeys(t.config.REDIS_PREFIX);
    const redis = new Redis(t.config.REDIS_URL!);
    try {
      expect(await redis.del(keys.usageStreamOf(tenantId))).toBe(1);
    } finally {
      redis.disconnect();
    }
    await until(() => journalLines().length >= 5);
    const lines = journalLines().map((l) => JSON.parse(l) as Record<string, unknown> & { requestId: string; costMicros: string });
    expect(lines.map((l) => l.requestId)).toEqual([...drained, ...lost].map((r) => r.id));
    const costs = new Map(lines.map((l) => [l.requestId, BigInt(l.costMicros)]));
    const lostCost = lost.reduce((a, r) => a + costs.get(r.id)!, 0n);
    expect(lostCost).toBeGreaterThan(0n);
    const before = await t.credits.getCredits(tenantId);
    // The Redis balance was debited for all five; the ledger knows only two.
    expect(await ledgerSum(tenantId)).toBe(before!.balance + lostCost);

    // Recent entries are left to the drain by default.
    expect(await recoverUsage([dir], db, { apply: false })).toMatchObject({ entries: 5, tooRecent: 5, written: 0 });
    // Files of earlier hours are not even read.
    expect(await recoverUsage([dir], db, { apply: false, minAgeMs: 0, sinceMs: Date.now() + 3_600_000 })).toMatchObject({ files: 0, entries: 0 });
    const report = await recoverUsage([dir], db, { apply: false, minAgeMs: 0 });
    expect(report).toMatchObject({ files: 1, lines: 5, entries: 5, unreadable: 0, inLedger: 2, written: 0 });
    expect(report.missing).toEqual({ requests: 3, costMicros: lostCost, byokFeeMicros: 0n, byTenant: { [tenantId]: { requests: 3, micros: lostCost } } });
    expect(await t.prisma.ledgerEntry.count({ where: { tenantId, kind: 'usage' } })).toBe(2);

    const applied = await recoverUsage([dir], db, { apply: true, minAgeMs: 0 });
    expect(applied.written).toBe(3);
    const rows = await t.prisma.ledgerEntry.findMany({ where: { tenantId, kind: 'usage' } });
    expect(rows.map((r) => r.idempotencyKey).sort()).toEqual([...drained, ...lost].map((r) => `usage:${r.id}`).sort());
    for (const r of lost) {
      expect(rows.find((x) => x.requestId === r.id)!.amountMicros).toBe(-costs.get(r.id)!);
      const log = await t.prisma.requestLog.findUniqueOrThrow({ where: { requestId: r.id } });
      expect(log).toMatchObject({ tenantId, status: 200, costMicros: costs.get(r.id), servedModel: 'openai/gpt-4o-mini' });
    }
    // Ledger, Redis and /v1/credits agree again, to the micro.
    expect(await ledgerSum(tenantId)).toBe((await t.credits.getCredits(tenantId))!.balance);

    // Again: nothing left to write. A line a crash cut in half is reported, not charged, and a
    // request journaled twice is written once. (A crashed process's file: a restarted one writes
    // a file of its own.)
    appendFileSync(join(dir, 'usage-2026112600-crashed-1-0.jsonl'), `${JSON.stringify(lines[0])}\n{"requestId":"gen-cut","tenantId":"`);
    const again = await recoverUsage([dir], db, { apply: true, minAgeMs: 0 });
    expect(again).toMatchObject({ files: 2, entries: 6, inLedger: 6, unreadable: 1, written: 0, missing: { requests: 0 } });

    // A BYOK fee the ledger lacks next to a usage entry it has: only the fee is written.
    const withFee = { ...lines[1], byokFeeMicros: '123' };
    appendFileSync(join(dir, 'usage-2026112600-crashed-2-0.jsonl'), `${JSON.stringify(withFee)}\n${JSON.stringify(withFee)}\n`);
    const fee = await recoverUsage([dir], db, { apply: true, minAgeMs: 0 });
    expect(fee).toMatchObject({ written: 1, missing: { requests: 1, byokFeeMicros: 123n } });
    const feeRows = await t.prisma.ledgerEntry.findMany({ where: { requestId: drained[1].id }, orderBy: { kind: 'asc' } });
    expect(feeRows.map((r) => [r.kind, r.amountMicros])).toEqual([
      ['usage', -costs.get(drained[1].id)!],
      ['byok_fee', -123n],
    ]);
    // A journaled request whose tenant no longer exists is reported, and the others still written.
    const gone = { ...lines[2], requestId: 'req_journal_gone1', tenantId: 'ten_gone_journal' };
    const fresh = { ...lines[0], requestId: 'req_journal_fresh1' };
    appendFileSync(join(dir, 'usage-2026112600-crashed-3-0.jsonl'), `${JSON.stringify(gone)}\n${JSON.stringify(fresh)}\n`);
    const partly = await recoverUsage([dir], db, { apply: true, minAgeMs: 0 });
    expect(partly).toMatchObject({ written: 1, missing: { requests: 2 }, refused: [{ requestId: 'req_journal_gone1', tenantId: 'ten_gone_journal', reason: expect.stringContaining('23503') }] });
    expect(await t.prisma.ledgerEntry.count({ where: { idempotencyKey: 'usage:req_journal_fresh1' } })).toBe(1);
    rmSync(join(dir, 'usage-2026112600-crashed-3-0.jsonl'));
  });

  it('has a command that reports what the ledger lacks', async () => {
    const { client } = await fundedTenant(t, 1);
    t.openai.enqueue({ text: 'ok', promptTokens: 10, completionTokens: 1 });
    const r = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    // Journaled once its settle is back from Redis (just after the answer), then written at the turn's end.
    await until(() => journalLines().some((l) => l.includes(r.id)));
    await t.app.get(UsageJournal).onApplicationShutdown();
    const cli = spawnSync(process.execPath, ['apps/billing/dist/usage-recover.js', '--min-age-minutes', '0', dir], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, DATABASE_URL: t.config.DATABASE_URL, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    // The newest request is not drained yet: the report names it (and writes nothing without --apply).
    expect(cli.stdout).toMatch(/missing from the ledger: 1 request\(s\)/);
    expect(cli.stdout).toContain('run again with --apply');
    const apply = spawnSync(process.execPath, ['apps/billing/dist/usage-recover.js', '--apply', '--min-age-minutes', '0', dir], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, DATABASE_URL: t.config.DATABASE_URL, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });
    expect(apply.status).toBe(0);
    expect(apply.stdout).toContain('written: 1 ledger entry');
    expect(await t.prisma.ledgerEntry.count({ where: { requestId: r.id, kind: 'usage' } })).toBe(1);
    const bad = spawnSync(process.execPath, ['apps/billing/dist/usage-recover.js', '--bogus', dir], { cwd: join(__dirname, '..'), env: { ...process.env, DATABASE_URL: t.config.DATABASE_URL }, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('unknown option --bogus');
  });
});
