import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from './config';
import { DEV_SECRETS_KEY_VERSION, lastFour, SecretBox, SecretBoxError } from './secret-box';

const key = () => randomBytes(32).toString('base64');
const config = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...env });
const quiet = () => undefined;

describe('SecretBox', () => {
  it('seals with AES-256-GCM and opens with the same AAD only', () => {
    const box = SecretBox.fromConfig(config({ SECRETS_KEY: key(), SECRETS_KEY_VERSION: '3' }), quiet);
    const sealed = box.seal('sk-live-provider-secret-1234', 'cred:ten_a:c1');
    expect(sealed.keyVersion).toBe(3);
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.authTag).toHaveLength(16);
    expect(Buffer.from(sealed.ciphertext).toString('utf8')).not.toContain('provider-secret');
    expect(box.open(sealed, 'cred:ten_a:c1')).toBe('sk-live-provider-secret-1234');
    // Moved to another tenant's row: refused, and the error names no secret.
    expect(() => box.open(sealed, 'cred:ten_b:c1')).toThrow(SecretBoxError);
    try {
      box.open(sealed, 'cred:ten_b:c1');
    } catch (e) {
      expect((e as Error).message).not.toContain('1234');
    }
  });

  it('uses a fresh nonce for every seal', () => {
    const box = SecretBox.fromConfig(config({ SECRETS_KEY: key() }), quiet);
    const a = box.seal('same', 'x');
    const b = box.seal('same', 'x');
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false);
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
  });

  it('refuses tampered ciphertext, tag or nonce', () => {
    const box = SecretBox.fromConfig(config({ SECRETS_KEY: key() }), quiet);
    const s = box.seal('secret value', 'aad');
    const flip = (b: Uint8Array) => {
      const c = Buffer.from(b);
      c[0] = c[0]! ^ 1;
      return c;
    };
    expect(() => box.open({ ...s, ciphertext: flip(s.ciphertext) }, 'aad')).toThrow(SecretBoxError);
    expect(() => box.open({ ...s, authTag: flip(s.authTag) }, 'aad')).toThrow(SecretBoxError);
    expect(() => box.open({ ...s, iv: flip(s.iv) }, 'aad')).toThrow(SecretBoxError);
    expect(() => box.open({ ...s, iv: Buffer.alloc(4) }, 'aad')).toThrow(SecretBoxError);
  });

  it('rotates: old versions open through SECRETS_OLD_KEYS, reseal uses the current version', () => {
    const k1 = key();
    const k2 = key();
    const v1 = SecretBox.fromConfig(config({ SECRETS_KEY: k1, SECRETS_KEY_VERSION: '1' }), quiet);
    const sealed = v1.seal('provider key', 'row');
    const v2 = SecretBox.fromConfig(config({ SECRETS_KEY: k2, SECRETS_KEY_VERSION: '2', SECRETS_OLD_KEYS: `1:${k1}` }), quiet);
    expect(v2.isStale(sealed)).toBe(true);
    expect(v2.open(sealed, 'row')).toBe('provider key');
    const again = v2.reseal(sealed, 'row');
    expect(again.keyVersion).toBe(2);
    expect(v2.isStale(again)).toBe(false);
    // Without the old key, version 1 cannot be opened, and the message says what to configure.
    const only2 = SecretBox.fromConfig(config({ SECRETS_KEY: k2, SECRETS_KEY_VERSION: '2' }), quiet);
    expect(() => only2.open(sealed, 'row')).toThrow(/SECRETS_OLD_KEYS/);
  });

  it('derives a deterministic development key with a warning, never in production', () => {
    const warnings: string[] = [];
    const a = SecretBox.fromConfig(config({}), (m) => warnings.push(m));
    const b = SecretBox.fromConfig(config({}), quiet);
    expect(a.currentVersion).toBe(DEV_SECRETS_KEY_VERSION);
    expect(warnings.join()).toContain('SECRETS_KEY');
    expect(b.open(a.seal('dev secret', 'r'), 'r')).toBe('dev secret');
    // Later, with a real key configured, dev rows still open so keys:rotate can re-seal them.
    const real = SecretBox.fromConfig(config({ SECRETS_KEY: key() }), quiet);
    expect(real.open(a.seal('dev secret', 'r'), 'r')).toBe('dev secret');
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) })).toThrow(/SECRETS_KEY/);
    const prod = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SECRETS_KEY: key() });
    expect(SecretBox.fromConfig(prod, quiet).canOpen(DEV_SECRETS_KEY_VERSION)).toBe(false);
  });

  it('validates key material in the configuration', () => {
    expect(() => config({ SECRETS_KEY: Buffer.alloc(16).toString('base64') })).toThrow(/SECRETS_KEY/);
    expect(() => config({ SECRETS_KEY: 'not base64 !!' })).toThrow(/SECRETS_KEY/);
    expect(() => config({ SECRETS_OLD_KEYS: 'one:abc' })).toThrow(/SECRETS_OLD_KEYS/);
    const k = key();
    expect(() => SecretBox.fromConfig(config({ SECRETS_KEY: k, SECRETS_OLD_KEYS: `1:${key()}` }), quiet)).toThrow(ConfigError);
    expect(() => SecretBox.fromConfig(config({ SECRETS_KEY: k, SECRETS_OLD_KEYS: `2:${Buffer.alloc(8).toString('base64')}` }), quiet)).toThrow(ConfigError);
  });

  it('shows at most the last four characters of long secrets', () => {
    expect(lastFour('sk-abcdefghijkl9876')).toBe('9876');
    expect(lastFour('short')).toBe('');
  });
});
