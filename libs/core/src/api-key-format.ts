import { hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { randomBase62 } from './ids';

/**
 * Tenant API keys: `sk-gw-` + 43 base62 characters (~256 bits) + a 6-character checksum.
 * The checksum lets the gateway refuse garbage without any lookup; only the SHA-256 of the key
 * is stored (a fast hash is right for high-entropy keys, DESIGN.md).
 */
export const API_KEY_PREFIX = 'sk-gw-';
const BODY_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function checksum(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function generateApiKey(): string {
  const body = randomBase62(BODY_LENGTH);
  return `${API_KEY_PREFIX}${body}${checksum(body)}`;
}

/** True when the text has the key shape and a valid checksum (no I/O). */
export function isWellFormedApiKey(key: string): boolean {
  if (key.length !== API_KEY_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH || !key.startsWith(API_KEY_PREFIX)) return false;
  const body = key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + BODY_LENGTH);
  if (!/^[0-9A-Za-z]+$/.test(body)) return false;
  return key.slice(-CHECKSUM_LENGTH) === checksum(body);
}

export function hashApiKey(key: string): string {
  // One-shot hash: no Hash object per request (about a third of createHash's cost).
  return hash('sha256', key, 'hex');
}

/** The part of a key shown in lists (never enough to use it). */
export function apiKeyDisplayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 6);
}

/**
 * Whether a request carries `Authorization` or `x-api-key` more than once (`rawHeaders`, names and
 * values alternating). Node keeps the first of two Authorization headers and a proxy in front may
 * have honoured the other: such a request presents no credential (reliability T01).
 */
export function repeatsCredentialHeaders(rawHeaders: readonly string[]): boolean {
  let auth = 0;
  let xKey = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // Cheap first test: only names of these two lengths can match.
    if (name.length === 13 && name.toLowerCase() === 'authorization') auth++;
    else if (name.length === 9 && name.toLowerCase() === 'x-api-key') xKey++;
  }
  return auth > 1 || xKey > 1;
}
