import { timingSafeEqual } from 'node:crypto';

/** Whether a presented secret equals the expected one, in time that does not depend on where they differ. */
export function secretsEqual(given: string | Buffer | undefined, expected: string | Buffer): boolean {
  const a = Buffer.isBuffer(given) ? given : Buffer.from(given ?? '');
  const b = Buffer.isBuffer(expected) ? expected : Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
