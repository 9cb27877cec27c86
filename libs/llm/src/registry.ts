import type { ProviderAdapter } from './provider';
import { BUILT_IN_ADAPTERS } from './providers';

/**
 * The adapters by provider id. A plain class so it works without Nest; in a Nest module provide it
 * with `{ provide: ProviderRegistry, useValue: new ProviderRegistry() }`.
 */
export class ProviderRegistry {
  private readonly byId = new Map<string, ProviderAdapter>();
  /** Every name a client may use for a provider (id and aliases, in `nameKey` form) to its id. */
  private readonly byName = new Map<string, string>();

  constructor(adapters: readonly ProviderAdapter[] = BUILT_IN_ADAPTERS) {
    for (const a of adapters) {
      if (this.byId.has(a.id)) throw new Error(`Duplicate provider adapter id: ${a.id}`);
      this.byId.set(a.id, a);
    }
    for (const a of adapters) {
      for (const name of [a.id, ...(a.aliases ?? [])]) {
        const key = nameKey(name);
        const taken = this.byName.get(key);
        if (taken !== undefined && taken !== a.id) throw new Error(`Provider name ${name} is claimed by ${taken} and ${a.id}`);
        this.byName.set(key, a.id);
      }
    }
  }

  /**
   * The provider id a client's name stands for (`DeepSeek`, `Google AI Studio`, OpenRouter's
   * `google-ai-studio`), or undefined for a name the gateway does not know.
   */
  resolve(name: string): string | undefined {
    return this.byName.get(nameKey(name));
  }

  get(id: string): ProviderAdapter | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  all(): readonly ProviderAdapter[] {
    return [...this.byId.values()];
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }
}

/** Case, surrounding space and word separators do not tell providers apart: `Moonshot AI` is `moonshot-ai`. */
function nameKey(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_]+/g, '-');
}
