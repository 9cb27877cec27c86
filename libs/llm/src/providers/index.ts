import type { ProviderAdapter } from '../provider';
import { anthropicAdapter } from './anthropic';
import { OPENAI_COMPATIBLE_ADAPTERS } from './openai-compatible';

export * from './anthropic';
export * from './openai-compatible';

/** Every adapter shipped with the gateway. Adding a provider: a folder here and one entry below. */
export const BUILT_IN_ADAPTERS: readonly ProviderAdapter[] = [...OPENAI_COMPATIBLE_ADAPTERS, anthropicAdapter];
