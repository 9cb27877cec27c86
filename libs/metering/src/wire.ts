import { DomainError, ErrorCode } from '@gw/core';

/**
 * Largest magnitude that crosses the Lua boundary. Scripts compare amounts as Lua numbers
 * (doubles), exact below 2^53: 9,007,199,254 USD in micros, far above any balance or request.
 */
export const MAX_LUA_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A bigint amount as the decimal string the scripts expect, refused if Lua could not hold it. */
export function asMicros(value: bigint, name: string, min = -MAX_LUA_SAFE): string {
  if (typeof value !== 'bigint') throw new TypeError(`${name} must be a bigint`);
  if (value < min || value > MAX_LUA_SAFE) throw new RangeError(`${name} out of range: ${value}`);
  return value.toString();
}

export function parseMicros(text: string): bigint {
  if (!/^-?\d+$/.test(text)) throw new DomainError(ErrorCode.Internal, `not an integer amount from Redis: ${text}`);
  return BigInt(text);
}

export function parseMs(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new DomainError(ErrorCode.Internal, `not an integer time from Redis: ${text}`);
  return n;
}

export function unexpectedReply(script: string, reply: readonly string[]): DomainError {
  return new DomainError(ErrorCode.Internal, `unexpected reply from the ${script} script: ${reply[0] ?? '(empty)'}`);
}

/** Fields settle writes itself into every usage event; a caller's event map may not set them. */
export const RESERVED_EVENT_FIELDS = ['requestId', 'tenantId', 'keyId', 'costMicros', 'byokFeeMicros'] as const;

export function isReservedEventField(name: string): boolean {
  return (RESERVED_EVENT_FIELDS as readonly string[]).includes(name);
}
