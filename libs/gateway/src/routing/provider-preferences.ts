import { DomainError, ErrorCode } from '@gw/core';
import type { ProviderRegistry, RequestProviderPreferences } from '@gw/llm';

const NAME_LISTS = ['order', 'only', 'ignore'] as const;

/**
 * The request's routing preferences as the planner compares them: provider names as the
 * registry's ids, `sort` in its string form (OpenRouter documents `{by, partition}` too; the
 * planner sorts each model's providers, OpenRouter's `partition: "model"`).
 *
 * OpenRouter clients write providers as OpenRouter shows them (`DeepSeek`, `Google AI Studio`),
 * which are read as the gateway's ids. A name the gateway does not know (`DeepInfra`, a provider
 * it never calls) is left out of `order` and `ignore`, where it changes nothing; `only` without
 * one name the gateway knows is refused, naming it (`provider.only[0]`), since it could serve
 * nothing the client allowed. Returns `prefs` itself when nothing changes.
 */
export function normalizeProviderPreferences(prefs: RequestProviderPreferences | undefined, registry: ProviderRegistry): RequestProviderPreferences | undefined {
  if (prefs === undefined || prefs === null) return prefs;
  let out: RequestProviderPreferences | undefined;
  for (const field of NAME_LISTS) {
    const names = prefs[field];
    if (names === undefined) continue;
    const ids = names.map((name) => registry.resolve(name));
    const known = ids.filter((id): id is string => id !== undefined);
    if (field === 'only' && names.length > 0 && known.length === 0) unknownProvider(names[0], 'provider.only[0]', registry);
    if (known.length !== names.length || known.some((id, i) => id !== names[i])) (out ??= { ...prefs })[field] = known;
  }
  if (typeof prefs.sort === 'object' && prefs.sort !== null) (out ??= { ...prefs }).sort = prefs.sort.by;
  return out ?? prefs;
}

function unknownProvider(name: string, param: string, registry: ProviderRegistry): never {
  throw new DomainError(ErrorCode.InvalidBody, `${param}: unknown provider "${name}"; the gateway's providers are ${registry.ids().join(', ')}`, { param });
}
