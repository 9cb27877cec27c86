/**
 * Stripe's request encoding: `application/x-www-form-urlencoded` with bracket paths
 * (`line_items[0][price_data][currency]=usd`, `metadata[tenant_id]=t`), the same in query strings.
 * Decoded into plain objects; numeric path segments become arrays. Values stay strings, as
 * Stripe's own parser receives them.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export function decodeForm(text: string): FormObject {
  const root: FormObject = {};
  if (!text) return root;
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const path = parsePath(rawKey);
    if (path.length === 0) continue;
    let node: FormObject | FormValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[i + 1]);
      const container = node as Record<string, FormValue>;
      const key = Array.isArray(node) && seg === '' ? String(node.length) : seg;
      if (last) {
        container[key] = value;
      } else {
        if (container[key] === undefined || typeof container[key] === 'string') container[key] = nextIsIndex ? [] : {};
        node = container[key] as FormObject | FormValue[];
      }
    }
  }
  return root;
}

/** `a[b][0][c]` -> ['a', 'b', '0', 'c']. */
function parsePath(key: string): string[] {
  const first = key.indexOf('[');
  if (first < 0) return [key];
  const out = [key.slice(0, first)];
  for (const m of key.slice(first).matchAll(/\[([^\]]*)\]/g)) out.push(m[1]);
  return out;
}

/** A form value as a string (undefined when absent or not a scalar). */
export function str(v: FormValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function int(v: FormValue | undefined): number | undefined {
  const s = str(v);
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined;
  return Number(s);
}

export function bool(v: FormValue | undefined): boolean {
  return str(v) === 'true';
}

/** `metadata[...]` as a string map (Stripe metadata values are strings). */
export function stringMap(v: FormValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  }
  return out;
}
