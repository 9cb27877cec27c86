/**
 * Values Postgres accepts from anything a client sent. Postgres text refuses NUL; jsonb also
 * refuses a `\u0000` escape and a lone UTF-16 surrogate (`\ud800`), in keys as in values, and
 * one such value fails its whole batch statement (a usage drain bucket would stall on it).
 */

/** Text without NUL (a lone surrogate is sent as U+FFFD by the driver's UTF-8 encoding). */
export function pgText(s: string): string {
  return s.includes('\0') ? s.replaceAll('\0', '') : s;
}

/** JSON that jsonb takes: NUL dropped and lone surrogates replaced (U+FFFD), in keys and values. */
export function pgJson(v: unknown): string {
  const text = JSON.stringify(v) ?? 'null';
  // JSON.stringify writes NUL as \u0000 and a lone surrogate as \udXXX; a valid pair stays raw.
  // (A literal backslash-u in a string also matches: it only takes the slow path.)
  return UNSAFE_ESCAPE.test(text) ? JSON.stringify(clean(v)) : text;
}

const UNSAFE_ESCAPE = /\\u(?:0000|d[89a-f])/i;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const cleanString = (s: string): string => pgText(s).replace(LONE_SURROGATE, '\ufffd');

function clean(v: unknown): unknown {
  if (typeof v === 'string') return cleanString(v);
  if (Array.isArray(v)) return v.map(clean);
  if (v !== null && typeof v === 'object') {
    const plain = typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON(): unknown }).toJSON() : v;
    if (plain !== v) return clean(plain);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [cleanString(k), clean(x)]));
  }
  return v;
}
