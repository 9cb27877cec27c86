import { Injectable, Logger } from '@nestjs/common';
import { LedgerRepository } from '@gw/db';
import { CreditStore } from '@gw/metering';

/**
 * Moves ledger entries to the Redis reservation book. Credits reach Redis only through the
 * sequence-guarded script, so running this twice (or on two processes at once) applies each
 * entry exactly once. A missing balance is rebuilt from the ledger, never assumed zero.
 */
@Injectable()
export class CreditSync {
  private readonly logger = new Logger('credit-sync');
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly ledger: LedgerRepository,
    private readonly credits: CreditStore,
  ) {}

  /** Coalesces concurrent calls for one tenant within this process. */
  sync(tenantId: string): Promise<void> {
    let p = this.running.get(tenantId);
    if (!p) {
      p = this.run(tenantId).finally(() => this.running.delete(tenantId));
      this.running.set(tenantId, p);
    }
    return p;
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

  /** Creates the balance from the ledger if it is absent (atomic: a concurrent rebuild is a no-op). */
  async rebuild(tenantId: string): Promise<void> {
    const t = await this.ledger.totals(tenantId);
    const created = await this.credits.initBalance(tenantId, {
      balanceMicros: t.balance,
      creditsMicros: t.credits,
      usageMicros: t.usage,
      seq: t.seq,
    });
    if (created) this.logger.log(`rebuilt the balance of ${tenantId} from the ledger`);
  }
}
