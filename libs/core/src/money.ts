/**
 * Money is integer micro-USD (1 USD = 1,000,000 micros) held in bigint. Floats never carry money;
 * `microsToUsd` exists only to render JSON numbers at the edge.
 */
export type Micros = bigint;

export const MICROS_PER_USD = 1_000_000n;

/** Parses a USD amount (number or decimal string) into micros exactly; refuses more than 6 decimals. */
export function usdToMicros(usd: number | string): Micros {
  const text = typeof usd === 'number' ? numberToPlain(usd) : usd.trim();
  const m = /^([+-])?(\d+)(?:\.(\d{0,6})(0*))?$/.exec(text);
  if (!m) throw new RangeError(`not a USD amount with at most 6 decimals: ${text}`);
  const [, sign, whole, frac = ''] = m;
  const micros = BigInt(whole) * MICROS_PER_USD + BigInt((frac + '000000').slice(0, 6));
  return sign === '-' ? -micros : micros;
}

function numberToPlain(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite amount: ${n}`);
  // toFixed(7) then trimming keeps values like 1e-7 from passing as "1e-7" and rejects 7-decimal inputs.
  const s = n.toFixed(7).replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** Renders micros as a USD JSON number (exact for any realistic balance: < 2^53 micros). */
export function microsToUsd(m: Micros): number {
  return Number(m) / 1e6;
}

/** A price as the APIs show it: USD as a decimal string (`"0.15"`), null for none. */
export function microsToUsdText(m: Micros | null): string | null {
  return m === null ? null : String(microsToUsd(m));
}

export function ceilDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError('divisor must be positive');
  if (a <= 0n) return -((-a) / b);
  return (a + b - 1n) / b;
}
