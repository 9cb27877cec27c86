import { generateApiKey, hashApiKey, isWellFormedApiKey, apiKeyDisplayPrefix } from './api-key-format';

describe('api key format', () => {
  it('generates well-formed, unique keys', () => {
    const keys = new Set(Array.from({ length: 200 }, generateApiKey));
    expect(keys.size).toBe(200);
    for (const k of keys) {
      expect(k).toMatch(/^sk-gw-[0-9A-Za-z]{49}$/);
      expect(isWellFormedApiKey(k)).toBe(true);
    }
  });

  it('refuses a key with one character changed (checksum)', () => {
    const k = generateApiKey();
    const i = 10;
    const swapped = k.slice(0, i) + (k[i] === 'a' ? 'b' : 'a') + k.slice(i + 1);
    expect(isWellFormedApiKey(swapped)).toBe(false);
    expect(isWellFormedApiKey(k.slice(0, -1))).toBe(false);
    expect(isWellFormedApiKey('sk-gw-' + '!'.repeat(49))).toBe(false);
  });

  it('hashes with sha256 hex and shows a short prefix', () => {
    const k = generateApiKey();
    expect(hashApiKey(k)).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKeyDisplayPrefix(k)).toBe(k.slice(0, 12));
  });
});
