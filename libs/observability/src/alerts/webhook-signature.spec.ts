import { createHmac } from 'node:crypto';
import { signatureHeader, verifySignature } from './webhook-signature';

const secret = 'whsec_test_secret_0123456789';
const body = '{"type":"alert.fired","id":"ald_1"}';
const now = 1_800_000_000_000;

describe('webhook signatures', () => {
  it('is t=<unix>,v1=<hex hmac-sha256 of "t.body">, checkable with nothing but node:crypto', () => {
    const header = signatureHeader(secret, body, now);
    const t = Math.floor(now / 1000);
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`);
    expect(verifySignature(header, body, secret, now)).toBe(true);
  });

  it('refuses another body, another secret, a missing or malformed header, and an old timestamp', () => {
    const header = signatureHeader(secret, body, now);
    expect(verifySignature(header, body.replace('ald_1', 'ald_2'), secret, now)).toBe(false);
    expect(verifySignature(header, body, 'whsec_another_secret_000000', now)).toBe(false);
    expect(verifySignature(undefined, body, secret, now)).toBe(false);
    expect(verifySignature('t=abc,v1=zz', body, secret, now)).toBe(false);
    expect(verifySignature(header, body, secret, now + 301_000)).toBe(false);
    expect(verifySignature(header, body, secret, now + 299_000)).toBe(true);
  });
});
