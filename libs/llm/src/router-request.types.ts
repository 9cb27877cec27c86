import type { ReasoningEffort } from './openai.types';

/**
 * The request fields OpenRouter added to OpenAI's Chat Completions that the gateway reads too:
 * the `reasoning` object and the `provider` routing preferences. Never forwarded as such to an
 * OpenAI-family provider (see `ROUTER_FIELDS`, `GATEWAY_ONLY_FIELDS`).
 */

/**
 * OpenRouter's `reasoning` request object (https://openrouter.ai/docs/use-cases/reasoning-tokens).
 * The gateway maps it to `reasoning_effort` for every provider (`applyReasoningObject`); adapters
 * whose provider takes a token budget read `max_tokens` as that budget.
 */
export interface ReasoningConfig {
  effort?: ReasoningEffort;
  /** Thinking budget in tokens. */
  max_tokens?: number;
  /** Think, but return no reasoning (it is still generated, and billed). */
  exclude?: boolean;
  /** `false` turns thinking off; `true` alone asks for the default effort. */
  enabled?: boolean;
}

export type ProviderSort = 'price' | 'latency' | 'throughput' | 'least_busy';

/** Gateway routing preferences (`provider` field, OpenRouter's shape) as routing reads them; never forwarded upstream. */
export interface ProviderPreferences {
  order?: string[];
  only?: string[];
  ignore?: string[];
  allow_fallbacks?: boolean;
  sort?: ProviderSort;
}

/** The `provider` field as clients send it; the gateway brings it to `ProviderPreferences` before routing. */
export interface RequestProviderPreferences extends Omit<ProviderPreferences, 'sort'> {
  /** OpenRouter documents a string or `{by, partition}`; the gateway sorts each model's providers (`partition: "model"`). */
  sort?: ProviderSort | { by: ProviderSort; partition?: 'model' | 'none' };
  /** USD per million tokens. */
  max_price?: { prompt?: number; completion?: number };
  /**
   * OpenRouter's switch for parameters a provider cannot honour: `true` refuses them (policy
   * `reject`), `false` drops them (`drop`); absent, the tenant's `unsupported_params` decides.
   */
  require_parameters?: boolean;
}
