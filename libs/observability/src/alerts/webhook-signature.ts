import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signatures of alert webhooks, Stripe's scheme: header `x-gateway-signature: t=<unix seconds>,v1=<hex>`
 * where `v1 = HMAC-SHA256(secret, "<t>.<raw body>")`. A receiver recomputes v1 over the raw bytes
 * it received, compares in constant time, and refuses a `t` too far from its clock (replays).
 */
export const SIGNATURE_HEADER = 'x-gateway-signature';
/** Receivers should refuse older signatures (stripe-node's default tolerance). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The header value for a body sent at `nowMs`. */
export function signatureHeader(secret: string, body: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${signatureOf(secret, t, body)}`;
}

/** What a receiver does: true when the header signs this body with this secret, within the tolerance. */
export function verifySignature(header: string | undefined, body: string, secret: string, nowMs: number, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isSafeInteger(t) || !given || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (Math.abs(nowMs / 1000 - t) > toleranceSeconds) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(signatureOf(secret, t, body), 'hex'));
}
