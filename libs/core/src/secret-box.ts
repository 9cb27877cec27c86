import { Logger } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { APP_CONFIG, ConfigError, type AppConfig } from './config';

/**
 * Envelope of a secret at rest (BYOK provider keys, webhook signing secrets): AES-256-GCM
 * ciphertext, its 96-bit nonce and 128-bit tag, and the version of the key-encryption key that
 * sealed it, so the operator can rotate keys (`npm run keys:rotate`) without downtime.
 */
export interface SealedSecret {
  ciphertext: Uint8Array;
  iv: Uint8Array;
  authTag: Uint8Array;
  keyVersion: number;
}

/** Raised when a secret cannot be opened. Never carries plaintext or key material. */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

/** Version of the key derived in development when SECRETS_KEY is unset (never accepted in production). */
export const DEV_SECRETS_KEY_VERSION = 0;

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// A constant on purpose: the dev key must survive restarts so a developer's stored keys stay
// readable; it protects nothing, which is why production refuses to start without SECRETS_KEY.
const DEV_KEY_SEED = 'llm-gateway/development-only/secrets-key/v1';

/**
 * AES-256-GCM with versioned key-encryption keys. Every seal takes an AAD (additional
 * authenticated data) naming where the secret lives (e.g. tenant and row id), so a ciphertext
 * copied into another tenant's row fails to open instead of leaking across tenants.
 */
export class SecretBox {
  private readonly keys: ReadonlyMap<number, Buffer>;

  constructor(keys: ReadonlyMap<number, Uint8Array>, readonly currentVersion: number) {
    const copy = new Map<number, Buffer>();
    for (const [version, key] of keys) {
      if (!Number.isInteger(version) || version < 0) throw new ConfigError(`secret key version must be a non-negative integer: ${version}`);
      if (key.length !== KEY_BYTES) throw new ConfigError(`secret key version ${version} must be ${KEY_BYTES} bytes`);
      copy.set(version, Buffer.from(key));
    }
    if (!copy.has(currentVersion)) throw new ConfigError(`no secret key for the current version ${currentVersion}`);
    this.keys = copy;
  }

  /**
   * The box the configuration describes: SECRETS_KEY as SECRETS_KEY_VERSION, SECRETS_OLD_KEYS
   * for decryption only. Without SECRETS_KEY (never in production) a deterministic development
   * key is used, with a warning; it stays readable later so keys:rotate can re-seal its rows.
   */
  static fromConfig(config: AppConfig, warn: (message: string) => void = (m) => new Logger('secrets').warn(m)): SecretBox {
    const keys = new Map<number, Uint8Array>();
    for (const [version, key] of parseOldKeys(config.SECRETS_OLD_KEYS)) keys.set(version, key);
    if (config.NODE_ENV !== 'production') keys.set(DEV_SECRETS_KEY_VERSION, devKey());
    if (config.SECRETS_KEY) {
      const current = Buffer.from(config.SECRETS_KEY, 'base64');
      const old = keys.get(config.SECRETS_KEY_VERSION);
      if (old && !Buffer.from(old).equals(current)) {
        throw new ConfigError(`SECRETS_OLD_KEYS has another key for the current version ${config.SECRETS_KEY_VERSION}`);
      }
      keys.set(config.SECRETS_KEY_VERSION, current);
      return new SecretBox(keys, config.SECRETS_KEY_VERSION);
    }
    if (config.NODE_ENV === 'production') throw new ConfigError('SECRETS_KEY is required when NODE_ENV=production');
    warn('SECRETS_KEY is not set: provider keys are encrypted with a development key. Set SECRETS_KEY (openssl rand -base64 32) before storing real secrets.');
    return new SecretBox(keys, DEV_SECRETS_KEY_VERSION);
  }

  seal(plaintext: string, aad: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key(this.currentVersion), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { ciphertext, iv, authTag: cipher.getAuthTag(), keyVersion: this.currentVersion };
  }

  open(sealed: SealedSecret, aad: string): string {
    if (sealed.iv.length !== IV_BYTES || sealed.authTag.length !== TAG_BYTES) throw new SecretBoxError('malformed sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key(sealed.keyVersion), sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.authTag);
    try {
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`secret could not be decrypted (key version ${sealed.keyVersion}): wrong key or tampered data`);
    }
  }

  /** True when the secret was sealed with an older key and should be re-sealed. */
  isStale(sealed: Pick<SealedSecret, 'keyVersion'>): boolean {
    return sealed.keyVersion !== this.currentVersion;
  }

  /** Opens with whichever key sealed it and seals again with the current key (keys:rotate). */
  reseal(sealed: SealedSecret, aad: string): SealedSecret {
    return this.seal(this.open(sealed, aad), aad);
  }

  canOpen(version: number): boolean {
    return this.keys.has(version);
  }

  private key(version: number): Buffer {
    const key = this.keys.get(version);
    if (!key) throw new SecretBoxError(`no secret key for version ${version} (add it to SECRETS_OLD_KEYS)`);
    return key;
  }
}

/** Nest provider of the process's SecretBox (CoreModule provides it globally): inject `SecretBox`. */
export const SECRET_BOX_PROVIDER = {
  provide: SecretBox,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): SecretBox => SecretBox.fromConfig(config),
};

/** The last characters of a secret, the only part ever shown back. */
export function lastFour(secret: string): string {
  return secret.length <= 8 ? '' : secret.slice(-4);
}

function devKey(): Buffer {
  return createHash('sha256').update(DEV_KEY_SEED).digest();
}

function parseOldKeys(text: string | undefined): Array<[number, Buffer]> {
  if (!text) return [];
  return text.split(',').map((pair) => {
    const [v, b64] = pair.split(':');
    const version = Number(v);
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!Number.isSafeInteger(version) || version < 1) throw new ConfigError(`SECRETS_OLD_KEYS: bad version ${v}`);
    if (key.length !== KEY_BYTES) throw new ConfigError(`SECRETS_OLD_KEYS: the key of version ${version} must be base64 of ${KEY_BYTES} bytes`);
    return [version, key];
  });
}
