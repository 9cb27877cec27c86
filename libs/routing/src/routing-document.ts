import type { ProviderPreferences } from '@gw/llm';

/**
 * A tenant's routing configuration, stored as one JSON document (routing_settings.document) and
 * edited whole through GET/PUT /api/routing. The gateway reads it through its tenant cache
 * (evicted by a `tenant` invalidation message) and never from Postgres on the hot path.
 *
 * Field names are snake_case because the document is the API body as-is. New kinds of rules
 * are added to `RoutingRule` (and to the validator) without changing the document's version;
 * `version` changes only for an incompatible reshaping.
 */
export const ROUTING_DOCUMENT_VERSION = 1;

export type UnsupportedParamsPolicy = 'reject' | 'drop';

export const ALIAS_STRATEGIES = ['ordered', 'weighted', 'cheapest', 'lowest_latency', 'least_busy'] as const;
export type AliasStrategy = (typeof ALIAS_STRATEGIES)[number];

/** One provider/model an alias may send a request to. */
export interface AliasTarget {
  /** A catalog model, `provider/model` (never another alias: no chains, no cycles). */
  model: string;
  /** Relative weight (1..1000), weighted aliases only. */
  weight?: number;
}

export interface ModelAlias {
  /**
   * `ordered`: the first target, then the others as fallbacks in order.
   * `weighted`: one target picked by weight per request, the others as fallbacks.
   * `cheapest`, `lowest_latency`, `least_busy`: all targets, ordered per request by price
   * (input + output per million), measured time to first byte, or requests in flight.
   */
  strategy: AliasStrategy;
  targets: AliasTarget[];
}

/** The defaults applied when a request carries no `provider` object (OpenRouter's shape). */
export interface DefaultProviderPreferences extends ProviderPreferences {
  /** USD per million tokens: providers priced above are skipped. */
  max_price?: { prompt?: number; completion?: number };
}

export interface DataPolicy {
  /** Providers this tenant's traffic must never reach (platform capacity and BYOK alike). */
  excluded_providers: string[];
}

interface RuleBase {
  /** Free text shown back to the tenant. */
  name?: string;
  /** Requested models the rule applies to (`provider/model`, an alias, or a prefix ending in `*`); absent: all. */
  models?: string[];
}

/** Size-based routing: requests whose prompt bound is within the range go to `target`. */
export interface SizeRule extends RuleBase {
  type: 'size';
  min_prompt_tokens?: number;
  max_prompt_tokens?: number;
  /** `provider/model` or one of this document's aliases. */
  target: string;
}

/** Refuse (402) a request whose worst-case cost exceeds `max_usd`. */
export interface MaxCostRule extends RuleBase {
  type: 'max_cost';
  max_usd: number;
}

/** Traffic split: requests to the matched models are spread over `targets` by weight. */
export interface SplitRule extends RuleBase {
  type: 'split';
  targets: Array<{ model: string; weight: number }>;
}

/** The routing issue's rules; evaluated in array order by the planner. */
export type RoutingRule = SizeRule | MaxCostRule | SplitRule;

/** Upstream timeouts of this tenant's requests (ms); absent fields use the platform's defaults. */
export interface Timeouts {
  /** To the upstream's response headers (then retry or fail over). */
  first_byte_ms?: number;
  /** Between two chunks of a stream. */
  idle_ms?: number;
  /** The whole upstream exchange, stream included. */
  total_ms?: number;
}

export interface RoutingDocument {
  version: typeof ROUTING_DOCUMENT_VERSION;
  /** Alias name (no `/`, so it never collides with `provider/model`) to its targets. */
  aliases: Record<string, ModelAlias>;
  provider_preferences: DefaultProviderPreferences;
  /** What to do with a parameter the chosen provider cannot honour: 400, or drop it silently. */
  unsupported_params: UnsupportedParamsPolicy;
  data_policy: DataPolicy;
  rules: RoutingRule[];
  timeouts: Timeouts;
  /**
   * When a provider refuses one of the tenant's own keys (401, 403, 402, 429), serve the request
   * on the platform's capacity and credits instead. Off by default: a broken key is reported,
   * not papered over with the tenant's prepaid credits.
   */
  byok_fallback_to_platform: boolean;
}

/** What a tenant without a stored document gets. */
export function defaultRoutingDocument(): RoutingDocument {
  return {
    version: ROUTING_DOCUMENT_VERSION,
    aliases: {},
    provider_preferences: {},
    unsupported_params: 'reject',
    data_policy: { excluded_providers: [] },
    rules: [],
    timeouts: {},
    byok_fallback_to_platform: false,
  };
}

/** Limits that keep a document small enough to cache per tenant in every gateway. */
export const ROUTING_LIMITS = {
  aliases: 100,
  targetsPerAlias: 10,
  rules: 50,
  modelsPerRule: 50,
  providersPerList: 50,
  maxWeight: 1000,
  maxPromptTokens: 10_000_000,
  maxUsdPerRequest: 1000,
  maxPricePerMillion: 1_000_000,
} as const;
