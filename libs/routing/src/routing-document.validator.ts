import { DomainError, ErrorCode } from '@gw/core';
import { SORTS } from './planner/plan.types';
import {
  ALIAS_STRATEGIES,
  defaultRoutingDocument,
  ROUTING_DOCUMENT_VERSION,
  ROUTING_LIMITS as L,
  type AliasTarget,
  type DefaultProviderPreferences,
  type ModelAlias,
  type RoutingDocument,
  type RoutingRule,
} from './routing-document';

export interface RoutingValidationContext {
  /** Known provider ids (ProviderRegistry.ids()); when given, unknown providers are refused. */
  providers?: readonly string[];
}

const PROVIDER = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MODEL = /^[a-z0-9][a-z0-9_-]{0,31}\/[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}$/;
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A requested-model pattern: a model, an alias, or a prefix of either ending in `*`. */
const PATTERN = /^([A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}\*?|\*)$/;

type Json = Record<string, unknown>;

/**
 * Strict validation of a routing document (PUT /api/routing, and the gateway when it loads one):
 * unknown fields, wrong types, out-of-range numbers and dangling references are refused with a
 * DomainError(InvalidBody) whose `param` is the exact path, e.g. `aliases.my-fast.targets[0].model`.
 * Missing top-level sections take their defaults. Returns a fresh, normalized document.
 */
export function validateRoutingDocument(input: unknown, ctx: RoutingValidationContext = {}): RoutingDocument {
  const root = object(input, '', ['version', 'aliases', 'provider_preferences', 'unsupported_params', 'data_policy', 'rules', 'timeouts', 'byok_fallback_to_platform']);
  const doc = defaultRoutingDocument();
  if (root.version !== undefined && root.version !== ROUTING_DOCUMENT_VERSION) {
    fail('version', `must be ${ROUTING_DOCUMENT_VERSION}`);
  }
  const providers = ctx.providers ? new Set(ctx.providers) : undefined;
  if (root.aliases !== undefined) doc.aliases = aliases(root.aliases, providers);
  if (root.provider_preferences !== undefined) doc.provider_preferences = preferences(root.provider_preferences, providers);
  if (root.unsupported_params !== undefined) doc.unsupported_params = oneOf(root.unsupported_params, 'unsupported_params', ['reject', 'drop'] as const);
  if (root.data_policy !== undefined) {
    const dp = object(root.data_policy, 'data_policy', ['excluded_providers']);
    if (dp.excluded_providers !== undefined) doc.data_policy.excluded_providers = providerList(dp.excluded_providers, 'data_policy.excluded_providers', providers);
  }
  if (root.rules !== undefined) doc.rules = rules(root.rules, new Set(Object.keys(doc.aliases)), providers);
  if (root.timeouts !== undefined) {
    const t = object(root.timeouts, 'timeouts', ['first_byte_ms', 'idle_ms', 'total_ms']);
    for (const k of ['first_byte_ms', 'idle_ms', 'total_ms'] as const) {
      if (t[k] !== undefined) doc.timeouts[k] = integer(t[k], `timeouts.${k}`, 100, 3_600_000);
    }
  }
  if (root.byok_fallback_to_platform !== undefined) doc.byok_fallback_to_platform = boolean(root.byok_fallback_to_platform, 'byok_fallback_to_platform');
  return doc;
}

function aliases(v: unknown, providers: Set<string> | undefined): Record<string, ModelAlias> {
  const raw = object(v, 'aliases');
  const names = Object.keys(raw);
  if (names.length > L.aliases) fail('aliases', `must have at most ${L.aliases} entries`);
  // A prototype-free map: alias names come from the tenant and must never reach Object.prototype.
  const out = Object.create(null) as Record<string, ModelAlias>;
  for (const name of names) {
    const path = `aliases.${name}`;
    if (!ALIAS.test(name)) fail(path, 'is not a valid alias name (letters, digits, ".", "_", "-"; no "/"; at most 64 characters)');
    const a = object(raw[name], path, ['strategy', 'targets']);
    const strategy = a.strategy === undefined ? 'ordered' : oneOf(a.strategy, `${path}.strategy`, ALIAS_STRATEGIES);
    const list = array(a.targets, `${path}.targets`, 1, L.targetsPerAlias);
    const seen = new Set<string>();
    const targets = list.map((t, i): AliasTarget => {
      const tp = `${path}.targets[${i}]`;
      const o = object(t, tp, ['model', 'weight']);
      const model = modelId(o.model, `${tp}.model`, providers);
      if (seen.has(model)) fail(`${tp}.model`, 'is listed twice');
      seen.add(model);
      if (strategy !== 'weighted') {
        if (o.weight !== undefined) fail(`${tp}.weight`, 'is only allowed when strategy is "weighted"');
        return { model };
      }
      return { model, weight: integer(o.weight, `${tp}.weight`, 1, L.maxWeight) };
    });
    out[name] = { strategy, targets };
  }
  return out;
}

function preferences(v: unknown, providers: Set<string> | undefined): DefaultProviderPreferences {
  const p = object(v, 'provider_preferences', ['order', 'only', 'ignore', 'allow_fallbacks', 'sort', 'max_price']);
  const out: DefaultProviderPreferences = {};
  for (const k of ['order', 'only', 'ignore'] as const) {
    if (p[k] !== undefined) out[k] = providerList(p[k], `provider_preferences.${k}`, providers);
  }
  if (out.only && out.ignore) {
    const clash = out.only.find((x) => out.ignore!.includes(x));
    if (clash) fail('provider_preferences.ignore', `contains "${clash}", which is also in provider_preferences.only`);
  }
  if (p.allow_fallbacks !== undefined) out.allow_fallbacks = boolean(p.allow_fallbacks, 'provider_preferences.allow_fallbacks');
  if (p.sort !== undefined) out.sort = oneOf(p.sort, 'provider_preferences.sort', SORTS);
  if (p.max_price !== undefined) {
    const m = object(p.max_price, 'provider_preferences.max_price', ['prompt', 'completion']);
    out.max_price = {};
    for (const k of ['prompt', 'completion'] as const) {
      if (m[k] !== undefined) out.max_price[k] = usd(m[k], `provider_preferences.max_price.${k}`, L.maxPricePerMillion);
    }
  }
  return out;
}

function rules(v: unknown, aliasNames: Set<string>, providers: Set<string> | undefined): RoutingRule[] {
  return array(v, 'rules', 0, L.rules).map((r, i): RoutingRule => {
    const path = `rules[${i}]`;
    const type = oneOf(object(r, path).type, `${path}.type`, ['size', 'max_cost', 'split'] as const);
    const base = (o: Json) => ({
      ...(o.name !== undefined ? { name: string(o.name, `${path}.name`, 100) } : {}),
      ...(o.models !== undefined ? { models: patterns(o.models, `${path}.models`) } : {}),
    });
    if (type === 'size') {
      const o = object(r, path, ['type', 'name', 'models', 'min_prompt_tokens', 'max_prompt_tokens', 'target']);
      const min = o.min_prompt_tokens === undefined ? undefined : integer(o.min_prompt_tokens, `${path}.min_prompt_tokens`, 0, L.maxPromptTokens);
      const max = o.max_prompt_tokens === undefined ? undefined : integer(o.max_prompt_tokens, `${path}.max_prompt_tokens`, 1, L.maxPromptTokens);
      if (min === undefined && max === undefined) fail(`${path}.min_prompt_tokens`, 'or max_prompt_tokens is required');
      if (min !== undefined && max !== undefined && min > max) fail(`${path}.max_prompt_tokens`, 'must not be below min_prompt_tokens');
      const target = string(o.target, `${path}.target`, 232);
      if (!aliasNames.has(target)) modelId(target, `${path}.target`, providers, 'must be provider/model or an alias of this document');
      return { type, ...base(o), ...(min !== undefined ? { min_prompt_tokens: min } : {}), ...(max !== undefined ? { max_prompt_tokens: max } : {}), target };
    }
    if (type === 'max_cost') {
      const o = object(r, path, ['type', 'name', 'models', 'max_usd']);
      const max = usd(o.max_usd, `${path}.max_usd`, L.maxUsdPerRequest);
      if (max === 0) fail(`${path}.max_usd`, 'must be greater than 0');
      return { type, ...base(o), max_usd: max };
    }
    const o = object(r, path, ['type', 'name', 'models', 'targets']);
    const common = base(o);
    const targets = array(o.targets, `${path}.targets`, 2, L.targetsPerAlias).map((t, j) => {
      const tp = `${path}.targets[${j}]`;
      const x = object(t, tp, ['model', 'weight']);
      return { model: modelId(x.model, `${tp}.model`, providers), weight: integer(x.weight, `${tp}.weight`, 1, L.maxWeight) };
    });
    return { type, ...common, targets };
  });
}

// ---- primitives: each names the exact path it checks ----

function fail(path: string, message: string): never {
  throw new DomainError(ErrorCode.InvalidBody, `${path || 'body'} ${message}`, { param: path || 'body' });
}

function object(v: unknown, path: string, allowed?: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
  if (allowed) {
    const unknown = Object.keys(v).find((k) => !allowed.includes(k));
    if (unknown !== undefined) fail(path ? `${path}.${unknown}` : unknown, 'is not a known field');
  }
  return v as Json;
}

function array(v: unknown, path: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v)) fail(path, 'must be an array');
  if (v.length < min) fail(path, `must have at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
  if (v.length > max) fail(path, `must have at most ${max} entries`);
  return v;
}

function string(v: unknown, path: string, max: number): string {
  if (typeof v !== 'string') fail(path, 'must be a string');
  if (v.length === 0 || v.length > max) fail(path, `must be 1 to ${max} characters`);
  return v;
}

function boolean(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, 'must be a boolean');
  return v;
}

function integer(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, 'must be an integer');
  if (v < min || v > max) fail(path, `must be between ${min} and ${max}`);
  return v;
}

/** USD with at most 6 decimals (money becomes integer micros downstream). */
function usd(v: unknown, path: string, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'must be a number');
  if (v < 0 || v > max) fail(path, `must be between 0 and ${max}`);
  if (Math.round(v * 1e6) / 1e6 !== v) fail(path, 'must have at most 6 decimals');
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) fail(path, `must be one of: ${values.join(', ')}`);
  return v as T;
}

function modelId(v: unknown, path: string, providers: Set<string> | undefined, message = 'must be a model id, provider/model'): string {
  const s = string(v, path, 232);
  if (!MODEL.test(s)) fail(path, message);
  const provider = s.slice(0, s.indexOf('/'));
  if (providers && !providers.has(provider)) fail(path, `names an unknown provider "${provider}"`);
  return s;
}

function providerList(v: unknown, path: string, providers: Set<string> | undefined): string[] {
  const list = array(v, path, 0, L.providersPerList).map((p, i) => {
    const s = string(p, `${path}[${i}]`, 32);
    if (!PROVIDER.test(s)) fail(`${path}[${i}]`, 'is not a provider id');
    if (providers && !providers.has(s)) fail(`${path}[${i}]`, `is an unknown provider "${s}"`);
    return s;
  });
  const dup = list.find((p, i) => list.indexOf(p) !== i);
  if (dup !== undefined) fail(path, `lists "${dup}" twice`);
  return list;
}

function patterns(v: unknown, path: string): string[] {
  return array(v, path, 1, L.modelsPerRule).map((p, i) => {
    const s = string(p, `${path}[${i}]`, 232);
    if (!PATTERN.test(s)) fail(`${path}[${i}]`, 'must be a model, an alias, or a prefix ending in *');
    return s;
  });
}
