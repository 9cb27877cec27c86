import { Injectable, Logger } from '@nestjs/common';
import { LedgerRepository, type LedgerTotals } from '@gw/db';
import { CreditStore, UsageStream, type BalanceSnapshot } from '@gw/metering';

const REBUILD_READS = 5;

/**
 * Moves ledger entries to the Redis reservation book. Credits reach Redis only through the
 * sequence-guarded script, so running this twice (or on two processes at once) applies each
 * entry exactly once. A missing balance is rebuilt from the ledger, never assumed zero.
 */
@Injectable()
export class CreditSync {
  private readonly logger = new Logger('credit-sync');
  private readonly running = new Map<string, { done: Promise<void>; again: boolean }>();

  constructor(
    private readonly ledger: LedgerRepository,
    private readonly credits: CreditStore,
    private readonly stream: UsageStream,
  ) {}

  /**
   * Coalesces concurrent calls for one tenant within this process. A call that arrives while a
   * sync runs makes it run once more before it resolves: the running one may already have read
   * the ledger before the caller's entry committed.
   */
  sync(tenantId: string): Promise<void> {
    const current = this.running.get(tenantId);
    if (current) {
      current.again = true;
      return current.done;
    }
    const state = { done: Promise.resolve(), again: false };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.run(tenantId);
        } while (state.again);
      } finally {
        this.running.delete(tenantId);
      }
    })();
    this.running.set(tenantId, state);
    return state.done;
  }

  private async run(tenantId: string): Promise<void> {
    let snap = await this.credits.getCredits(tenantId);
    if (!snap) {
      await this.rebuild(tenantId);
      snap = await this.credits.getCredits(tenantId);
      if (!snap) return;
    }
    let seq = snap.seq;
    for (;;) {
      const entries = await this.ledger.pushedAfter(tenantId, seq);
      if (entries.length === 0) return;
      const r = await this.credits.applyLedger(
        tenantId,
        entries.map((e) => ({ seq: e.seq!, amountMicros: e.amountMicros })),
      );
      if (r.kind === 'balance_missing') return this.rebuild(tenantId);
      seq = r.seq;
    }
  }

  /**
   * Creates the balance from the ledger if it is absent (atomic: a concurrent rebuild is a no-op).
   * Usage settled in Redis but not yet written to the ledger is still in the stream (when the
   * stream survived) and is subtracted. It is read on both sides of the ledger read and the read
   * is repeated while a drain moves events between them; if it never settles, the larger figure
   * is taken (a short under-credit rather than free usage) and reconciliation corrects the rest.
   */
  async rebuild(tenantId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // Any event added after this id (a settle while the balance is missing writes one without a
      // debit) makes the creation refuse, and the figures are read again.
      const lastSeen = attempt < REBUILD_READS ? await this.stream.lastIdOf(tenantId) : undefined;
      const created = await this.credits.initBalance(tenantId, await this.figures(tenantId), lastSeen);
      if (created === 'stream_moved') continue;
      if (created) this.logger.log(`rebuilt the balance of ${tenantId} from the ledger`);
      return;
    }
  }

  /** The ledger's figures minus the usage still in the stream, read until a drain does not move it. */
  private async figures(tenantId: string): Promise<BalanceSnapshot> {
    let t: LedgerTotals;
    let unwritten: bigint;
    let reads = 0;
    for (;;) {
      const before = await this.stream.unwrittenUsageOf(tenantId);
      t = await this.ledger.totals(tenantId);
      const after = await this.stream.unwrittenUsageOf(tenantId);
      unwritten = before > after ? before : after;
      if (before === after || ++reads >= REBUILD_READS) break;
    }
    return { balanceMicros: t.balance - unwritten, creditsMicros: t.credits, usageMicros: t.usage + unwritten, seq: t.seq };
  }
}
