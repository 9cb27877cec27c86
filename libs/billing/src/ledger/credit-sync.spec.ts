import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { CreditStore, RedisKeys } from '@gw/metering';
import { CreditSync } from './credit-sync.service';

/** Ledger entries as pushedAfter returns them: committed ones, read after one round trip. */
class FakeLedger {
  readonly committed: { seq: bigint; amountMicros: bigint; kind: string }[] = [];
  /** Called once, after the next read took its snapshot (a commit can land right then). */
  afterNextRead?: () => void;

  async pushedAfter(_tenantId: string, seq: bigint) {
    const snapshot = this.committed.filter((e) => e.seq > seq);
    await new Promise((r) => setTimeout(r, 10));
    const hook = this.afterNextRead;
    this.afterNextRead = undefined;
    hook?.();
    return snapshot;
  }
}

const prefix = `${process.env.REDIS_PREFIX ?? 'tbill:'}cs${randomBytes(4).toString('hex')}:`;
const keys = new RedisKeys(prefix);
const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
const store = new CreditStore(redis, keys);

afterAll(async () => {
  const found = await redis.keys(`${prefix}*`);
  if (found.length) await redis.del(...found);
  redis.disconnect();
});

it('applies a credit that commits while a sync of the same tenant is finishing', async () => {
  const tenantId = `ten${randomBytes(4).toString('hex')}`;
  await store.initBalance(tenantId, { balanceMicros: 0n, creditsMicros: 0n, usageMicros: 0n, seq: 0n });
  const ledger = new FakeLedger();
  const sync = new CreditSync(ledger as never, store, {} as never);

  ledger.committed.push({ seq: 1n, amountMicros: 5_000_000n, kind: 'topup' });
  let second: Promise<void> | undefined;
  // The first sync applies seq 1, then reads the ledger again and finds nothing. Right after
  // that read, seq 2 commits and its writer asks for a sync, which joins the running one.
  ledger.afterNextRead = () => {
    ledger.afterNextRead = () => {
      ledger.committed.push({ seq: 2n, amountMicros: 7_000_000n, kind: 'adjustment' });
      second = sync.sync(tenantId);
    };
  };
  await sync.sync(tenantId);
  await second;
  expect(second).toBeDefined();
  expect(await store.getCredits(tenantId)).toMatchObject({ balance: 12_000_000n, seq: 2n });
});
