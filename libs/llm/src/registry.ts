import type { ProviderAdapter } from './provider';
import { BUILT_IN_ADAPTERS } from './providers';

/**
 * The adapters by provider id. A plain class so it works without Nest; in a Nest module provide it
 * with `{ provide: ProviderRegistry, useValue: new ProviderRegistry() }`.
 */
export class ProviderRegistry {
  private readonly byId = new Map<string, ProviderAdapter>();

  constructor(adapters: readonly ProviderAdapter[] = BUILT_IN_ADAPTERS) {
    for (const a of adapters) {
      if (this.byId.has(a.id)) throw new Error(`Duplicate provider adapter id: ${a.id}`);
      this.byId.set(a.id, a);
    }
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
