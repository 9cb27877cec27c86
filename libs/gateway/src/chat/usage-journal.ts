import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { appendFileSync, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { APP_CONFIG, type AppConfig, Clock } from '@gw/core';
import { JOURNAL_FILE, journalHourOf, journalLineOf, type JournalEntry } from '@gw/metering';

/**
 * The usage journal (reliability T57): every gateway appends each charged request's usage event to
 * a local file as it settles, so that usage Redis loses before the billing worker wrote it to
 * Postgres (a crash past the AOF's last second, a restore from an older snapshot, a FLUSHALL) can
 * still reach the ledger: `npm run usage:recover` writes what the ledger lacks, once.
 *
 * Off the hot path's critical section: a line is built after the settle and the lines of one
 * event-loop turn leave in one write. Files are hourly, per process, and deleted after
 * USAGE_JOURNAL_RETENTION_HOURS. Written through the OS page cache without fsync: a process crash
 * loses at most the turn being written, a machine crash what the OS had not flushed.
 */
@Injectable()
export class UsageJournal implements OnApplicationShutdown {
  private readonly logger = new Logger('usage-journal');
  private readonly dir: string | undefined;
  private readonly retentionMs: number;
  /**
   * Host, process and start time: a restarted container keeps its host name and often its pid,
   * and must not append to the file its crash may have left with a cut line.
   */
  private readonly tag = `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}-${Date.now().toString(36)}`;
  private lines: string[] = [];
  private closed = false;
  private scheduled = false;
  private out?: WriteStream;
  private hour = '';

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.dir = config.USAGE_JOURNAL_DIR;
    this.retentionMs = config.USAGE_JOURNAL_RETENTION_HOURS * 3_600_000;
    // Fails the start-up, not the first request, when the directory cannot be made.
    if (this.dir) mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  get enabled(): boolean {
    return this.dir !== undefined;
  }

  /** Journals a charged request (nothing to recover for a free one). */
  record(e: JournalEntry): void {
    if (!this.dir || (e.costMicros === 0n && e.byokFeeMicros === 0n)) return;
    this.lines.push(journalLineOf(e));
    if (this.closed) {
      // A settle that ends after the shutdown hook (rare): written at once, the stream is gone.
      this.flushSync();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes the lines gathered so far (one write per event-loop turn). */
  flush(): void {
    this.scheduled = false;
    if (this.lines.length === 0 || !this.dir) return;
    this.fileFor(this.clock.now()).write(this.takeChunk());
  }

  /** The lines gathered so far, as one chunk; the buffer starts empty again. */
  private takeChunk(): string {
    const chunk = `${this.lines.join('\n')}\n`;
    this.lines = [];
    return chunk;
  }

  async onApplicationShutdown(): Promise<void> {
    this.flush();
    this.closed = true;
    const out = this.out;
    this.out = undefined;
    if (out) await new Promise<void>((resolve) => out.end(resolve));
  }

  private flushSync(): void {
    const chunk = this.takeChunk();
    try {
      appendFileSync(this.pathFor(this.clock.now()), chunk, { mode: 0o600 });
    } catch (e) {
      this.logger.error(`usage journal: ${(e as Error).message}`);
    }
  }

  private pathFor(nowMs: number): string {
    return join(this.dir!, `usage-${journalHourOf(nowMs)}-${this.tag}.jsonl`);
  }

  private fileFor(nowMs: number): WriteStream {
    const hour = journalHourOf(nowMs);
    if (hour !== this.hour || !this.out) {
      this.out?.end();
      const path = this.pathFor(nowMs);
      // Owner-only: the lines name tenants, keys and what they spent.
      const out = createWriteStream(path, { flags: 'a', mode: 0o600 });
      out.on('error', (e) => {
        // A failed write destroys the stream: the next turn opens the file again, rather than
        // every later line failing silently until the hour turns.
        this.logger.error(`usage journal ${path}: ${e.message}`);
        if (this.out === out) this.out = undefined;
      });
      this.out = out;
      this.hour = hour;
      void this.prune(nowMs).catch((e: unknown) => this.logger.warn(`usage journal pruning failed: ${(e as Error).message}`));
    }
    return this.out;
  }

  /** Deletes journal files (of any process) last written before the retention. */
  private async prune(nowMs: number): Promise<void> {
    for (const name of await readdir(this.dir!)) {
      if (!JOURNAL_FILE.test(name)) continue;
      const path = join(this.dir!, name);
      // Another process may prune the same file first.
      const st = await stat(path).catch(() => null);
      if (st && st.mtimeMs < nowMs - this.retentionMs) await unlink(path).catch(() => undefined);
    }
  }
}
