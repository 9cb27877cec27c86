import { createHash } from 'node:crypto';

/**
 * A short fingerprint of the current password hash, carried in the JWT (`pv`): changing the
 * password changes it, so every session issued before the change stops working without any
 * session table.
 */
export function passwordVersion(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('base64url').slice(0, 16);
}
