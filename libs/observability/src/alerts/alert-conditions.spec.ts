import type { StoredAlertRule } from '@gw/db';
import { alertPayload, balanceReading, errorRateReading, spendReading, startOfUtcDay, startOfUtcMonth } from './alert-conditions';

const rule = (over: Partial<StoredAlertRule>): StoredAlertRule =>
  ({ id: 'alr_1', tenantId: 'ten_1', kind: 'spend_daily', thresholdMicros: 10_000_000n, thresholdRate: null, windowMinutes: null, model: null, provider: null, webhookUrl: 'https://x.test/secret-path', state: 'armed', ...over }) as StoredAlertRule;

describe('alert conditions', () => {
  it('count spend from the start of the UTC day or month', () => {
    const t = Date.parse('2026-03-31T23:59:59.999Z');
    expect(startOfUtcDay(t).toISOString()).toBe('2026-03-31T00:00:00.000Z');
    expect(startOfUtcMonth(t).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(startOfUtcDay(Date.parse('2026-04-01T00:00:00.000Z')).toISOString()).toBe('2026-04-01T00:00:00.000Z');
  });

  it('breach spend at the threshold, balance under it, error rate strictly above it with attempts in the window', () => {
    const since = new Date(0);
    expect(spendReading(rule({}), 9_999_999n, since).breached).toBe(false);
    expect(spendReading(rule({}), 10_000_000n, since).breached).toBe(true);
    expect(balanceReading(rule({ kind: 'balance_below' }), 10_000_000n).breached).toBe(false);
    expect(balanceReading(rule({ kind: 'balance_below' }), 9_999_999n).breached).toBe(true);
    const er = rule({ kind: 'error_rate', thresholdMicros: null, thresholdRate: 0.5, windowMinutes: 5 });
    expect(errorRateReading(er, 0, 0).breached).toBe(false);
    expect(errorRateReading(er, 4, 2).breached).toBe(false);
    expect(errorRateReading(er, 4, 3)).toMatchObject({ breached: true, observed: { error_rate: 0.75, failed_attempts: 3, attempts: 4, window_minutes: 5 } });
  });

  it('build a payload that names the rule but never its URL (it can be a credential)', () => {
    const r = rule({});
    const p = alertPayload(r, spendReading(r, 12_345_678n, new Date('2026-03-31T00:00:00Z')), 'ald_1', new Date('2026-03-31T12:00:00Z'));
    expect(p).toEqual({
      id: 'ald_1',
      type: 'alert.fired',
      created_at: '2026-03-31T12:00:00.000Z',
      tenant_id: 'ten_1',
      rule: { id: 'alr_1', kind: 'spend_daily', threshold: 10, threshold_rate: null, window_minutes: null, model: null, provider: null },
      observed: { spend: 12.345678, spend_micros: '12345678', since: '2026-03-31T00:00:00.000Z' },
      message: 'Spend today (UTC) is $12.35, at or above your alert threshold of $10.00.',
    });
    expect(JSON.stringify(p)).not.toContain('secret-path');
  });
});
