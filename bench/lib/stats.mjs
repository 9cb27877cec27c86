// Small statistics helpers (all inputs are plain number arrays).

export function quantile(values, q) {
  if (values.length === 0) return null;
  const s = Float64Array.from(values).sort();
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

/** Median of a list that may hold nulls (ignored). */
export function medianOf(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return v.length ? median(v) : null;
}

export function minOf(values) {
  let m = null;
  for (const x of values) if (typeof x === 'number' && Number.isFinite(x) && (m === null || x < m)) m = x;
  return m;
}

export function maxOf(values) {
  let m = null;
  for (const x of values) if (typeof x === 'number' && Number.isFinite(x) && (m === null || x > m)) m = x;
  return m;
}

export function ratio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : null;
}
