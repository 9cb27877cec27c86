import { loadConfig, newId, SecretBox } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { tenantScope, type TenantScope } from '../tenant-scope';
import { TenantRepository } from './tenant.repository';
import { RequestLogQueryRepository } from './request-log-query.repository';
import { UsageReportRepository } from './usage-report.repository';
import { PrivacySettingsRepository } from './privacy-settings.repository';
import { RetentionRepository } from './retention.repository';
import { AlertRuleRepository } from './alert-rule.repository';
import { AlertDeliveryRepository } from './alert-delivery.repository';
import { AlertSignalsRepository } from './alert-signals.repository';
import { alertSecretAad } from './sealed-secret.repository';

/** The observability repositories: another tenant's rows are invisible and untouchable; the queries count right. */
let prisma: PrismaService;
let a: TenantScope;
let b: TenantScope;
const box = SecretBox.fromConfig(loadConfig({ NODE_ENV: 'test', SECRETS_KEY: Buffer.alloc(32, 9).toString('base64') }), () => undefined);
const now = Date.now();

async function log(scope: TenantScope, over: Record<string, unknown> = {}) {
  const requestId = newId('gen');
  await prisma.requestLog.create({
    data: { requestId, tenantId: scope.tenantId, requestedModel: 'openai/gpt-4o-mini', servedModel: 'openai/gpt-4o-mini', provider: 'openai', endpoint: 'chat.completions', status: 200, ...over },
  });
  return requestId;
}

async function rule(scope: TenantScope, kind: 'balance_below' | 'error_rate' = 'balance_below') {
  const rules = new AlertRuleRepository(prisma);
  const id = newId('alr');
  return rules.create(scope, {
    id,
    kind,
    thresholdMicros: kind === 'balance_below' ? 1_000_000n : null,
    thresholdRate: kind === 'error_rate' ? 0.5 : null,
    windowMinutes: kind === 'error_rate' ? 5 : null,
    model: null,
    provider: null,
    webhookUrl: 'https://93.184.215.14/hook',
    sealed: box.seal('whsec_x', alertSecretAad(scope.tenantId, id)),
    enabled: true,
  });
}

beforeAll(async () => {
  prisma = new PrismaService(loadConfig());
  const tenants = new TenantRepository(prisma);
  const stamp = `${Date.now()}-${Math.random()}`;
  a = tenantScope((await tenants.createWithOwner({ email: `oa-${stamp}@x.test`, passwordHash: 'h', tenantName: 'A' })).tenantId);
  b = tenantScope((await tenants.createWithOwner({ email: `ob-${stamp}@x.test`, passwordHash: 'h', tenantName: 'B' })).tenantId);
});
afterAll(async () => {
  await prisma?.$disconnect();
});

describe('request logs', () => {
  it('are invisible and undeletable across tenants, content included', async () => {
    const logs = new RequestLogQueryRepository(prisma);
    const id = await log(a, { content: { messages: [], completion: 'secret' } });
    expect(await logs.get(b, id)).toBeNull();
    expect((await logs.page(b, {}, { limit: 100 })).rows.map((r) => r.requestId)).not.toContain(id);
    expect(await logs.deleteOne(b, id)).toBe(false);
    expect(await logs.deleteMatching(b, {}, { contentOnly: true })).toBe(0);
    expect(await logs.deleteMatching(b, {}, { contentOnly: false })).toBe(0);
    const mine = (await logs.page(a, {}, { limit: 100 })).rows.find((r) => r.requestId === id);
    expect(mine).toMatchObject({ hasContent: true });
    expect(mine).not.toHaveProperty('content');
    expect((await logs.get(a, id))?.content).toEqual({ messages: [], completion: 'secret' });
  });
});

describe('usage report', () => {
  it('sums per group, pages groups by keyset in the sort order, and sees one tenant only', async () => {
    const report = new UsageReportRepository(prisma);
    const models = ['m/a', 'm/b', 'm/c', 'm/d', 'm/e'];
    for (const [i, m] of models.entries()) {
      for (let n = 0; n <= i; n++) await log(a, { servedModel: m, requestedModel: m, costMicros: 100n, promptTokens: 10, completionTokens: 5 });
    }
    // Two groups with the same spend: the keyset must keep ties apart by key.
    await log(a, { servedModel: 'm/tie', requestedModel: 'm/tie', costMicros: 300n });
    await log(b, { servedModel: 'm/a', requestedModel: 'm/a', costMicros: 999n });
    const full = await report.groups(a, { from: new Date(now - 60_000) }, ['model'], { limit: 100 });
    const paid = (m: string) => full.rows.find((r) => r.keys.model === m)!;
    expect(paid('m/e')).toMatchObject({ requests: 5, costMicros: 500n, promptTokens: 50n, completionTokens: 25n });
    expect(paid('m/a')).toMatchObject({ requests: 1, costMicros: 100n });
    expect(full.rows.map((r) => r.keys.model).slice(0, 4)).toEqual(['m/e', 'm/d', 'm/c', 'm/tie']);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await report.groups(a, { from: new Date(now - 60_000) }, ['model'], { limit: 2, cursor });
      paged.push(...page.rows.map((r) => r.keys.model!));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(full.rows.map((r) => r.keys.model));
    expect((await report.totals(b, {})).costMicros).toBe(999n);
    await expect(report.groups(a, {}, ['model'], { limit: 2, cursor: 'garbage' })).rejects.toThrow(/cursor/);
  });
});

describe('privacy settings and retention', () => {
  it('change one tenant only, and retention clears only that tenant past its own days', async () => {
    const privacy = new PrivacySettingsRepository(prisma);
    expect(await privacy.get(a)).toEqual({ logContent: false, retentionDays: 30 });
    await privacy.put(a, { logContent: true, retentionDays: 2 });
    expect(await privacy.get(b)).toEqual({ logContent: false, retentionDays: 30 });
    const old = { content: { completion: 'x' }, createdAt: new Date(now - 3 * 86_400_000) };
    const ida = await log(a, old);
    const idb = await log(b, old);
    const retention = new RetentionRepository(prisma);
    expect(await retention.clearContent(a, 2, new Date(now), 1)).toBe(1);
    expect((await prisma.requestLog.findUniqueOrThrow({ where: { requestId: ida } })).content).toBeNull();
    expect((await prisma.requestLog.findUniqueOrThrow({ where: { requestId: idb } })).content).toEqual({ completion: 'x' });
    expect(await retention.deleteLogsBefore(a, new Date(now - 86_400_000), 1)).toBe(1);
    expect(await prisma.requestLog.count({ where: { requestId: idb } })).toBe(1);
  });
});

describe('alert rules and deliveries', () => {
  it('are scoped, and a crossing opens once', async () => {
    const rules = new AlertRuleRepository(prisma);
    const deliveries = new AlertDeliveryRepository(prisma);
    const r = await rule(a);
    expect(box.open(r.sealed, r.aad)).toBe('whsec_x');
    expect(await rules.get(b, r.id)).toBeNull();
    expect((await rules.page(b, { limit: 100 })).rows).toEqual([]);
    expect(await rules.delete(b, r.id)).toBe(false);
    expect(await rules.openCrossing(b, r.id, new Date(), { id: newId('ald'), payload: {} })).toBeNull();
    const at = new Date();
    const opened = await rules.openCrossing(a, r.id, at, { id: newId('ald'), payload: { n: 1 } });
    expect(opened).toMatchObject({ createdAt: at });
    expect(await rules.openCrossing(a, r.id, new Date(), { id: newId('ald'), payload: { n: 2 } })).toBeNull();
    expect(await deliveries.get(b, opened!.id)).toBeNull();
    expect(await deliveries.recordAttempt(b, opened!.id, { status: 'delivered', responseStatus: 200, error: null, at })).toBe(false);
    expect((await deliveries.page(b, { limit: 100 })).rows).toEqual([]);
    expect(await rules.rearm(b, r.id)).toBe(false);
    expect(await deliveries.recordAttempt(a, opened!.id, { status: 'delivered', responseStatus: 200, error: null, at })).toBe(true);
    // Final: a late retry cannot change a delivered record.
    expect(await deliveries.recordAttempt(a, opened!.id, { status: 'failed', responseStatus: 500, error: 'x', at })).toBe(false);
    expect(await rules.rearm(a, r.id)).toBe(true);
    expect((await rules.get(a, r.id))?.state).toBe('armed');
  });

  it('measure spend and upstream attempt errors of one tenant', async () => {
    const signals = new AlertSignalsRepository(prisma);
    const since = new Date(now - 60_000);
    const before = await signals.spendSince(a, since);
    // Spend is the ledger's (request logs may be deleted): usage and BYOK fees net of reversals, in the window.
    const entry = (kind: 'usage' | 'byok_fee' | 'usage_reversal' | 'topup', amountMicros: bigint, createdAt = new Date(now)) =>
      prisma.ledgerEntry.create({ data: { tenantId: a.tenantId, kind, amountMicros, idempotencyKey: `${kind}:${newId('gen')}`, createdAt } });
    await entry('usage', -1_000n);
    await entry('byok_fee', -50n);
    await entry('usage_reversal', 20n);
    await entry('topup', 5_000_000n);
    await entry('usage', -7n, new Date(now - 120_000));
    await log(a, { costMicros: 999n });
    expect(await signals.spendSince(a, since)).toBe(before + 1_030n);
    const fresh = tenantScope((await new TenantRepository(prisma).createWithOwner({ email: `oc-${now}-${Math.random()}@x.test`, passwordHash: 'h', tenantName: 'C' })).tenantId);
    await log(fresh, {
      attempts: [
        { model: 'openai/gpt-4o-mini', provider: 'openai', status: 500, error: 'upstream_error', latency_ms: 1, started_ms: 1 },
        { model: 'anthropic/claude-haiku-4.5', provider: 'anthropic', status: 200, latency_ms: 1, started_ms: 3 },
      ],
    });
    await log(fresh, { attempts: [{ model: 'openai/gpt-4o-mini', provider: 'openai', status: 400, error: 'invalid_body', latency_ms: 1, started_ms: 1 }] });
    // Refused by the gateway before any call (no started_ms): no upstream attempt.
    await log(fresh, { attempts: [{ model: 'openai/gpt-4o-mini', provider: 'openai', status: 0, error: 'upstream_error', latency_ms: 0 }] });
    expect(await signals.attemptErrors(fresh, since, { model: null, provider: null })).toEqual({ attempts: 3, failed: 1 });
    expect(await signals.attemptErrors(fresh, since, { model: null, provider: 'openai' })).toEqual({ attempts: 2, failed: 1 });
    expect(await signals.attemptErrors(fresh, since, { model: 'anthropic/claude-haiku-4.5', provider: null })).toEqual({ attempts: 1, failed: 0 });
    expect(await signals.attemptErrors(b, since, { model: null, provider: null })).toEqual({ attempts: 0, failed: 0 });
  });
});
