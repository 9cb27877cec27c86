import { Injectable, Logger } from '@nestjs/common';
import { LedgerAuditRepository, LedgerRepository } from '@gw/db';
import { CreditStore, UsageStream, type Credits } from '@gw/metering';
import { CreditSync } from './credit-sync.service';

const PAGE = 500;
const PARALLEL = 8;
const REPORTED_DRIFTS = 20;

export interface Drift {
  tenantId: string;
  redisMicros: string;
  expectedMicros: string;
}

/** What one reconciliation run found (the job's result, visible in BullMQ and the logs). */
export interface ReconcileReport {
  tenants: number;
  /** Redis equal to ledger minus unwritten usage. */
  ok: number;
  /** Drift found while nothing was pending, and repaired. */
  repaired: number;
  /** Drift seen while usage or credits were in flight: left for the next run. */
  pending: number;
  /** Balances absent from Redis, rebuilt from the ledger. */
  rebuilt: number;
  drifts: Drift[];
}

/**
 * Compares every tenant's Redis balance with the ledger (the truth) minus the usage settled in
 * Redis but not yet written (`UsageStream.unwrittenUsageOf`), and repairs a drift only when
 * nothing is pending: no unwritten usage, and Redis unchanged across the ledger read (no settle,
 * no credit push in between). The repair is `forceBalance` guarded by the ledger seq and the
 * balance read, so a credit applied or a settle landed meanwhile makes it refuse rather than lose
 * the credit or the charge. A missing balance is
 * rebuilt (as the gateway would on its next request).
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger('reconcile');

  constructor(
    private readonly audit: LedgerAuditRepository,
    private readonly ledger: LedgerRepository,
    private readonly store: CreditStore,
    private readonly stream: UsageStream,
    private readonly sync: CreditSync,
  ) {}

  async run(): Promise<ReconcileReport> {
    const report: ReconcileReport = { tenants: 0, ok: 0, repaired: 0, pending: 0, rebuilt: 0, drifts: [] };
    let after: string | null = null;
    for (;;) {
      const ids = await this.audit.tenantIdsAfter(after, PAGE);
      for (let i = 0; i < ids.length; i += PARALLEL) {
        for (const r of await Promise.all(ids.slice(i, i + PARALLEL).map((id) => this.one(id)))) {
          report[r.outcome]++;
          if (r.drift && report.drifts.length < REPORTED_DRIFTS) report.drifts.push(r.drift);
        }
      }
      report.tenants += ids.length;
      if (ids.length < PAGE) break;
      after = ids[ids.length - 1];
    }
    if (report.repaired || report.rebuilt) this.logger.warn(`repaired ${report.repaired}, rebuilt ${report.rebuilt} of ${report.tenants} balance(s)`);
    return report;
  }

  private async one(tenantId: string): Promise<{ outcome: 'ok' | 'repaired' | 'pending' | 'rebuilt'; drift?: Drift }> {
    if (!(await this.store.getCredits(tenantId))) {
      await this.sync.rebuild(tenantId);
      return { outcome: 'rebuilt' };
    }
    // Entries the ledger has and Redis lacks are not drift: push them first.
    await this.sync.sync(tenantId);
    const r1 = await this.store.getCredits(tenantId);
    const u1 = await this.stream.unwrittenUsageOf(tenantId);
    const totals = await this.ledger.totals(tenantId);
    const r2 = await this.store.getCredits(tenantId);
    const u2 = await this.stream.unwrittenUsageOf(tenantId);
    if (!r1 || !r2) return { outcome: 'pending' };
    if (r2.balance === totals.balance - u2 && r2.seq === totals.seq) return { outcome: 'ok' };
    const quiet = u1 === 0n && u2 === 0n && same(r1, r2) && r2.seq === totals.seq;
    if (!quiet) return { outcome: 'pending' };
    const snapshot = { balanceMicros: totals.balance, creditsMicros: totals.credits, usageMicros: totals.usage, seq: totals.seq };
    // Guarded by what was read: a credit applied or a settle landed since makes it refuse.
    const forced = await this.store.forceBalance(tenantId, snapshot, totals.seq, { balanceMicros: r2.balance, usageMicros: r2.usage });
    if (forced.kind !== 'forced') return { outcome: 'pending' };
    this.logger.warn(`tenant ${tenantId}: Redis balance ${r2.balance} repaired to the ledger's ${totals.balance}`);
    return { outcome: 'repaired', drift: { tenantId, redisMicros: r2.balance.toString(), expectedMicros: totals.balance.toString() } };
  }
}

function same(a: Credits, b: Credits): boolean {
  return a.balance === b.balance && a.usage === b.usage && a.credits === b.credits && a.seq === b.seq;
}
