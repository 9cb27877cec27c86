import { redisKeyStatus, type KeyState } from './key-status.store';

const NOW = 1_800_000_000_000;
const key = (k: Partial<KeyState>): KeyState => ({ id: 'key_1', tenantId: 'ten_1', status: 'active', graceUntil: null, expiresAt: null, ...k });
const at = (ms: number) => new Date(NOW + ms);

describe('redisKeyStatus: what the reserve script must see', () => {
  it('active keys pass, until their expiry when they have one', () => {
    expect(redisKeyStatus(key({}), NOW)).toEqual({ status: 'active', untilMs: null });
    expect(redisKeyStatus(key({ expiresAt: at(60_000) }), NOW)).toEqual({ status: 'active', untilMs: NOW + 60_000 });
    expect(redisKeyStatus(key({ expiresAt: at(-1) }), NOW)).toEqual({ status: 'expired', untilMs: null });
  });

  it('revoked keys never pass', () => {
    expect(redisKeyStatus(key({ status: 'revoked', expiresAt: at(60_000), graceUntil: at(60_000) }), NOW)).toEqual({ status: 'revoked', untilMs: null });
  });

  it('rotated keys pass until the earlier of grace and expiry, then never', () => {
    expect(redisKeyStatus(key({ status: 'rotated', graceUntil: at(3_600_000) }), NOW)).toEqual({ status: 'active', untilMs: NOW + 3_600_000 });
    expect(redisKeyStatus(key({ status: 'rotated', graceUntil: at(3_600_000), expiresAt: at(60_000) }), NOW)).toEqual({ status: 'active', untilMs: NOW + 60_000 });
    expect(redisKeyStatus(key({ status: 'rotated', graceUntil: at(0) }), NOW)).toEqual({ status: 'rotated', untilMs: null });
    expect(redisKeyStatus(key({ status: 'rotated', graceUntil: null }), NOW)).toEqual({ status: 'rotated', untilMs: null });
  });
});
