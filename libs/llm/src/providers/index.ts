import type { ProviderAdapter } from '../provider';
import { anthropicAdapter } from './anthropic';
import { createAzureOpenAiAdapter, type AzureOpenAiOptions } from './azure';
import { geminiAdapter } from './google';
import { OPENAI_COMPATIBLE_ADAPTERS } from './openai-compatible';

export * from './anthropic';
export * from './azure';
export * from './google';
export * from './openai-compatible';

/** Deployment settings some adapters take (read by the config schema, never from process.env here). */
export interface BuiltInAdapterOptions {
  /** `AZURE_API_VERSION` and friends. */
  azure?: AzureOpenAiOptions;
}

/** Every adapter shipped with the gateway. Adding a provider: a folder here and one entry below. */
export function builtInAdapters(opts: BuiltInAdapterOptions = {}): readonly ProviderAdapter[] {
  return [...OPENAI_COMPATIBLE_ADAPTERS, createAzureOpenAiAdapter(opts.azure), anthropicAdapter, geminiAdapter];
}

/** The built-in adapters with default settings. */
export const BUILT_IN_ADAPTERS: readonly ProviderAdapter[] = builtInAdapters();
