import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import type { AppConfig, Clock } from '@gw/core';
import { UsageJournal } from './usage-journal';

const entry = (requestId: string, costMicros = 10n, byokFeeMicros = 0n) => ({ requestId, tenantId: 'ten_a', keyId: 'key_a', costMicros, byokFeeMicros, event: { status: '200', createdAtMs: '1' } });

describe('UsageJournal', () => {
  let dir: string;
  let now: number;
  const journal = (retentionHours = 72) =>
    new UsageJournal({ USAGE_JOURNAL_DIR: dir, USAGE_JOURNAL_RETENTION_HOURS: retentionHours } as AppConfig, { now: () => now } as Clock);
  const files = () => readdirSync(dir).sort();
  const linesOf = (f: string) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gw-journal-unit-'));
    now = Date.UTC(2026, 10, 26, 21, 30);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a turn's charged requests in the usage stream's fields, skipping free ones", async () => {
    const j = journal();
    j.record(entry('gen-1', 1500n));
    j.record(entry('gen-free', 0n, 0n));
    j.record({ ...entry('gen-2', 0n, 75n), event: { status: '200', createdAtMs: '1', content: '{"messages":"a stored prompt"}' } });
    await turn();
    await j.onApplicationShutdown();
    expect(files()).toEqual([expect.stringMatching(/^usage-2026112621-.+-\d+-[0-9a-z]+\.jsonl$/)]);
    // Owner-only.
    expect(statSync(join(dir, files()[0])).mode & 0o777).toBe(0o600);
    const lines = linesOf(files()[0]);
    expect(lines).toEqual([
      { requestId: 'gen-1', tenantId: 'ten_a', keyId: 'key_a', costMicros: '1500', byokFeeMicros: '0', event: { status: '200', createdAtMs: '1' } },
      // A tenant's stored content never reaches the journal.
      { requestId: 'gen-2', tenantId: 'ten_a', keyId: 'key_a', costMicros: '0', byokFeeMicros: '75', event: { status: '200', createdAtMs: '1' } },
    ]);
    // A settle that ends after the shutdown hook is still written, at once.
    j.record(entry('gen-late', 5n));
    expect(linesOf(files()[0]).map((l) => l.requestId)).toEqual(['gen-1', 'gen-2', 'gen-late']);
  });

  it('starts a file per hour and deletes journal files older than the retention', async () => {
    const stale = join(dir, 'usage-2026112301-old-1.jsonl');
    const other = join(dir, 'notes.txt');
    writeFileSync(stale, '');
    writeFileSync(other, '');
    const old = new Date(now - 3 * 3_600_000);
    utimesSync(stale, old, old);
    utimesSync(other, old, old);
    const j = journal(2);
    j.record(entry('gen-1'));
    await turn();
    now += 3_600_000;
    j.record(entry('gen-2'));
    await turn();
    await j.onApplicationShutdown();
    // Pruning runs in the background when a file is opened.
    for (let i = 0; i < 100 && existsSync(stale); i++) await new Promise((r) => setTimeout(r, 10));
    const journals = files().filter((f) => f.startsWith('usage-2026112'));
    expect(journals.map((f) => f.slice(0, 16))).toEqual(['usage-2026112621', 'usage-2026112622']);
    expect(journals.map((f) => linesOf(f).map((l) => l.requestId))).toEqual([['gen-1'], ['gen-2']]);
    expect(existsSync(stale)).toBe(false);
    // Only journal files are ever deleted.
    expect(existsSync(other)).toBe(true);
  });

  it('does nothing without a directory', async () => {
    const j = new UsageJournal({ USAGE_JOURNAL_RETENTION_HOURS: 72 } as AppConfig, { now: () => now } as Clock);
    expect(j.enabled).toBe(false);
    j.record(entry('gen-1'));
    await turn();
    await j.onApplicationShutdown();
    expect(files()).toEqual([]);
  });
});
