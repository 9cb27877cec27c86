import { loadConfig, newId } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { tenantScope, type TenantScope } from '../tenant-scope';
import { TenantRepository } from './tenant.repository';
import { AutoTopupRepository } from './auto-topup.repository';
import { PaymentRepository } from './payment.repository';
import { StripeCustomerRepository } from './stripe-customer.repository';

/** The billing repositories: tenant isolation, and the unique keys that make money effects happen once. */
let prisma: PrismaService;
let tenants: TenantRepository;
let a: TenantScope;
let b: TenantScope;

async function newTenant(): Promise<TenantScope> {
  const stamp = `${Date.now()}-${Math.random()}`;
  return tenantScope((await tenants.createWithOwner({ email: `bill-${stamp}@x.test`, passwordHash: 'h', tenantName: 'T' })).tenantId);
}

beforeAll(async () => {
  prisma = new PrismaService(loadConfig());
  tenants = new TenantRepository(prisma);
  a = await newTenant();
  b = await newTenant();
});
afterAll(async () => {
  await prisma?.$disconnect();
});

describe('tenant isolation of the billing repositories', () => {
  it('payments, Stripe customers and auto top-up state', async () => {
    const payments = new PaymentRepository(prisma);
    const p = await payments.createCheckout(a, { id: newId('pay'), checkoutSessionId: newId('cs'), amountMicros: 5_000_000n });
    expect(p.tenantId).toBe(a.tenantId);

    const customers = new StripeCustomerRepository(prisma);
    await customers.insertIfAbsent(a, `cus_${a.tenantId}`);
    expect(await customers.get(b)).toBeNull();

    const autoTopup = new AutoTopupRepository(prisma);
    await autoTopup.updateSettings(a, { enabled: true, thresholdMicros: 1n, amountMicros: 5_000_000n });
    expect(await autoTopup.settings(b)).toMatchObject({ enabled: false, thresholdMicros: null });
    const opened = await autoTopup.openCrossing(a, 0n);
    expect(opened).not.toBeNull();
    expect(await autoTopup.attempt(b, opened!.crossingSeq)).toBeNull();
    expect(await autoTopup.latestAttempt(b)).toBeNull();
    expect(await autoTopup.openCrossing(b, 0n)).toBeNull();
    const [mine, theirs] = [await autoTopup.billingContacts(a), await autoTopup.billingContacts(b)];
    expect(mine).toHaveLength(1);
    expect(theirs).not.toContain(mine[0]);
  });
});

describe('exactly once, by unique keys', () => {
  it('opens one crossing however many callers saw the same sequence', async () => {
    const t = await newTenant();
    const repo = new AutoTopupRepository(prisma);
    await repo.updateSettings(t, { enabled: true, thresholdMicros: 1n, amountMicros: 5_000_000n });
    const results = await Promise.all(Array.from({ length: 20 }, () => repo.openCrossing(t, 0n)));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await prisma.autoTopupAttempt.count({ where: { tenantId: t.tenantId } })).toBe(1);
    expect(await repo.settings(t)).toMatchObject({ crossingSeq: 1n });
  });

  it('counts a decline once even when two runs of a job report it', async () => {
    const t = await newTenant();
    const repo = new AutoTopupRepository(prisma);
    await repo.updateSettings(t, { enabled: true, thresholdMicros: 1n, amountMicros: 5_000_000n });
    const attempt = (await repo.openCrossing(t, 0n))!;
    const [x, y] = await Promise.all([repo.recordDecline(attempt, 0, 'declined', null), repo.recordDecline(attempt, 0, 'declined', null)]);
    expect([x, y].sort()).toEqual([1, null].sort());
    expect(await repo.settings(t)).toMatchObject({ failures: 1 });
  });

  it('records an event once across concurrent deliveries, and appends each ledger key once with gap-free seqs', async () => {
    const t = await newTenant();
    const payments = new PaymentRepository(prisma);
    const eventId = newId('evt');
    const recorded = await Promise.all(
      Array.from({ length: 5 }, () =>
        payments.transaction(async (tx) => {
          if (!(await tx.recordEvent(eventId, 'test'))) return 'duplicate';
          await tx.appendEntry(t.tenantId, { kind: 'topup', amountMicros: 1_000n, idempotencyKey: `topup:${eventId}` });
          return 'processed';
        }),
      ),
    );
    expect(recorded.sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'processed']);
    // Different events for the same payment (same ledger key) and other keys, all at once.
    const keys = ['k1', 'k1', 'k2', 'k1', 'k3', 'k2'].map((k) => `topup:${t.tenantId}:${k}`);
    const created = await Promise.all(keys.map((k) => payments.transaction((tx) => tx.appendEntry(t.tenantId, { kind: 'topup', amountMicros: 1n, idempotencyKey: k }))));
    expect(created.filter((r) => r?.created)).toHaveLength(3);
    const rows = await prisma.ledgerEntry.findMany({ where: { tenantId: t.tenantId }, orderBy: { seq: 'asc' } });
    expect(rows.map((r) => r.seq)).toEqual([1n, 2n, 3n, 4n]);
    expect((await prisma.tenant.findUniqueOrThrow({ where: { id: t.tenantId } })).ledgerSeq).toBe(4n);
  });

  it('keeps one Stripe customer per tenant when two first checkouts race', async () => {
    const t = await newTenant();
    const customers = new StripeCustomerRepository(prisma);
    const [x, y] = await Promise.all([customers.insertIfAbsent(t, `cus_x_${t.tenantId}`), customers.insertIfAbsent(t, `cus_y_${t.tenantId}`)]);
    expect(x.customerId).toBe(y.customerId);
  });

  it('drops the money effects of a deleted tenant instead of failing the event', async () => {
    const payments = new PaymentRepository(prisma);
    expect(await payments.transaction((tx) => tx.appendEntry('ten_gone', { kind: 'topup', amountMicros: 1n, idempotencyKey: newId('gone') }))).toBeNull();
  });
});
