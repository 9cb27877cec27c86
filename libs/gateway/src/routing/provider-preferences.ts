import { DomainError, ErrorCode } from '@gw/core';
import type { ProviderRegistry, RequestProviderPreferences } from '@gw/llm';

const NAME_LISTS = ['order', 'only', 'ignore'] as const;

/**
 * The request's routing preferences as the planner compares them: provider names as the
 * registry's ids, `sort` in its string form (OpenRouter documents `{by, partition}` too; the
 * planner sorts each model's providers, OpenRouter's `partition: "model"`).
 *
 * OpenRouter clients write providers as OpenRouter shows them (`DeepSeek`, `Google AI Studio`,
 * `google-vertex`). Compared as written, such a name matches nothing and silently does nothing,
 * and for `ignore` that sends traffic where the client said not to: a name the gateway does not
 * know is refused, naming the entry (`provider.ignore[0]`). Returns `prefs` itself when nothing changes.
 */
export function normalizeProviderPreferences(prefs: RequestProviderPreferences | undefined, registry: ProviderRegistry): RequestProviderPreferences | undefined {
  if (prefs === undefined || prefs === null) return prefs;
  let out: RequestProviderPreferences | undefined;
  for (const field of NAME_LISTS) {
    const names = prefs[field];
    if (names === undefined) continue;
    const ids = names.map((name, i) => registry.resolve(name) ?? unknownProvider(name, `provider.${field}[${i}]`, registry));
    if (ids.some((id, i) => id !== names[i])) (out ??= { ...prefs })[field] = ids;
  }
  if (typeof prefs.sort === 'object' && prefs.sort !== null) (out ??= { ...prefs }).sort = prefs.sort.by;
  return out ?? prefs;
}

function unknownProvider(name: string, param: string, registry: ProviderRegistry): never {
  throw new DomainError(ErrorCode.InvalidBody, `${param}: unknown provider "${name}"; the gateway's providers are ${registry.ids().join(', ')}`, { param });
}
