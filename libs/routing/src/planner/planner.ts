import { DomainError, ErrorCode, microsToUsd } from '@gw/core';
import type { RoutingDocument, RoutingRule } from '../routing-document';
import type { Plan, PlannableModel, PlannedAttempt, PlannerCatalog, ProviderPrefs, Sort, TargetHealth } from './plan.types';
import { stickyDraw, weightedPick } from './weighted-pick';

export interface PlanInput {
  /** The request's `model`: `provider/model`, an alias, optionally with `:floor` or `:nitro`. */
  model: string;
  /** The request's `models` fallbacks. */
  fallbacks?: string[];
  /** The request's `provider` object: when given, it replaces the tenant's defaults whole. */
  provider?: ProviderPrefs;
  document: RoutingDocument;
  catalog: PlannerCatalog;
  /** The key's `allowed_models` check (model ids, aliases, prefixes). */
  isAllowed(model: string): boolean;
  /** A platform endpoint or a BYOK credential can serve this model's provider. */
  isAvailable(model: PlannableModel): boolean;
  health(model: PlannableModel): TargetHealth;
  /** The prompt's size in tokens, one choice, for size rules: counted, or estimated from its bytes. */
  promptTokens: number;
  /** Worst-case cost of the request on a model, in micros (max-cost rules). */
  worstCase(model: PlannableModel): bigint;
  /** Uniform [0, 1): weighted aliases and splits. */
  random(): number;
  /** The end user (`user`): sticky splits. */
  stickyKey?: string;
}

const SUFFIX_SORT: Record<string, Sort> = { floor: 'price', nitro: 'latency' };

/**
 * Turns a request into its ordered attempts. Pure: every input (catalog, health snapshot,
 * randomness) is given, so tables of cases test it exactly.
 *
 * Order of reasoning: suffix, alias expansion, tenant rules (size, split), the request's fallbacks,
 * then per logical model the providers that can serve it (preferences, data policy, price caps,
 * availability), healthy before open circuits, and last the max-cost rules.
 */
export function planRoute(given: PlanInput): Plan {
  // Health is read once per model and plan: a half-open circuit hands out one probe per read.
  const seen = new Map<string, TargetHealth>();
  const input: PlanInput = {
    ...given,
    health: (m) => {
      let h = seen.get(m.id);
      if (!h) seen.set(m.id, (h = given.health(m)));
      return h;
    },
  };
  const decisions: string[] = [];
  const [name, suffix] = splitSuffix(input.model);
  // The request's own preferences replace the tenant's defaults (a copy: the suffix may change it).
  const prefs: ProviderPrefs = { ...(input.provider ?? input.document.provider_preferences) };
  // A key allowed an alias may use what the alias stands for (its targets and their providers).
  // Made only when an alias is met: most requests name a model.
  let granted: Set<string> | undefined;
  const expandAllowed = (n: string): string[] => {
    const ids = expand(n, input, decisions);
    if (input.document.aliases[n] && input.isAllowed(n)) for (const id of ids) (granted ??= new Set()).add(id);
    return ids;
  };
  if (suffix) {
    prefs.sort = SUFFIX_SORT[suffix];
    decisions.push(`suffix :${suffix} -> sort by ${prefs.sort}`);
  }

  let logical = expandAllowed(name);
  for (const [i, rule] of input.document.rules.entries()) {
    if (!ruleMatches(rule, name)) continue;
    if (rule.type === 'size' && inRange(input.promptTokens, rule.min_prompt_tokens, rule.max_prompt_tokens)) {
      decisions.push(`rule ${label(rule, i)}: prompt of ~${input.promptTokens} tokens -> ${rule.target}`);
      logical = [...expandAllowed(rule.target), ...logical];
      break;
    }
    if (rule.type === 'split') {
      const draw = input.stickyKey ? stickyDraw(`${input.stickyKey}|${i}`) : input.random();
      const pick = rule.targets[weightedPick(rule.targets.map((t) => t.weight), draw)];
      decisions.push(`rule ${label(rule, i)}: split -> ${pick.model}`);
      logical = [...expandAllowed(pick.model), ...logical];
      break;
    }
  }
  logical.push(...(input.fallbacks ?? []).flatMap(expandAllowed));
  logical = [...new Set(logical)];

  const attempts: PlannedAttempt[] = [];
  let firstError: DomainError | undefined;
  for (const [i, id] of logical.entries()) {
    const model = input.catalog.get(id);
    let err: DomainError | undefined;
    if (!model) err = new DomainError(ErrorCode.ModelNotFound, `Unknown model: ${id}`, { param: 'model' });
    else if (!granted?.has(id) && !input.isAllowed(id)) err = new DomainError(ErrorCode.ModelNotAllowed, `This key may not use model ${id}`, { param: 'model' });
    else {
      const allowed = granted?.has(id) ? () => true : (m: PlannableModel) => input.isAllowed(m.id);
      const { served, preferred } = providersFor(model, prefs, input, allowed);
      if (served.length === 0) err = noProvider(id, preferred);
      for (const m of served) attempts.push({ model: m, via: i === 0 ? 'primary' : `fallback ${id}` });
    }
    firstError ??= err;
  }
  // Open circuits go last across the whole plan (not dropped: if everything else fails they are tried).
  const open = new Set(attempts.filter((a) => input.health(a.model).open).map((a) => a.model.id));
  if (open.size) decisions.push(`circuit open: ${[...open].join(', ')} tried last`);
  const unique = dedupe([...attempts.filter((a) => !open.has(a.model.id)), ...attempts.filter((a) => open.has(a.model.id))]);
  if (unique.length === 0) throw firstError ?? new DomainError(ErrorCode.ModelNotFound, `Unknown model: ${name}`, { param: 'model' });
  return { attempts: applyMaxCost(unique, name, input, decisions), decisions };
}

function splitSuffix(model: string): [string, string | undefined] {
  const colon = model.lastIndexOf(':');
  if (colon > 0) {
    const s = model.slice(colon + 1);
    if (s in SUFFIX_SORT) return [model.slice(0, colon), s];
  }
  return [model, undefined];
}

/** An alias becomes its targets (a weighted alias puts its pick first); a model stays itself. */
function expand(name: string, input: PlanInput, decisions: string[]): string[] {
  const alias = input.document.aliases[name];
  if (!alias) return [name];
  const targets = alias.targets.map((t) => t.model);
  if (alias.strategy === 'weighted' && targets.length > 1) {
    const k = weightedPick(alias.targets.map((t) => t.weight ?? 1), input.random());
    decisions.push(`alias ${name}: weighted -> ${targets[k]}`);
    return [targets[k], ...targets.filter((_, j) => j !== k)];
  }
  if (alias.strategy !== 'ordered' && alias.strategy !== 'weighted') {
    const by = BALANCE[alias.strategy];
    const known = targets.map((id) => input.catalog.get(id));
    const ranked = targets.map((id, j) => ({ id, m: known[j] })).sort((a, b) => (a.m && b.m ? by(a.m, b.m, input.health) : Number(!a.m) - Number(!b.m)));
    decisions.push(`alias ${name}: ${alias.strategy} -> ${ranked.map((r) => r.id).join(', ')}`);
    return ranked.map((r) => r.id);
  }
  decisions.push(`alias ${name} -> ${targets.join(', ')}`);
  return targets;
}

type Health = (m: PlannableModel) => TargetHealth;
const price = (m: PlannableModel) => m.price.input + m.price.output;
const latency = (m: PlannableModel, health: Health) => health(m).latencyMs ?? Number.POSITIVE_INFINITY;

/** Balancing orders over equivalent targets (alias strategies and provider sorts share them). */
const BALANCE: Record<'cheapest' | 'lowest_latency' | 'least_busy', (a: PlannableModel, b: PlannableModel, health: Health) => number> = {
  cheapest: (a, b) => cmp(price(a), price(b)),
  // Never measured sorts last; equal latencies keep the cheaper first.
  lowest_latency: (a, b, h) => latency(a, h) - latency(b, h) || cmp(price(a), price(b)),
  least_busy: (a, b, h) => h(a).inFlight - h(b).inFlight || cmp(price(a), price(b)),
};

function ruleMatches(rule: RoutingRule, model: string): boolean {
  if (!rule.models || rule.models.length === 0) return true;
  return rule.models.some((p) => (p.endsWith('*') ? model.startsWith(p.slice(0, -1)) : p === model));
}

function inRange(v: number, min?: number, max?: number): boolean {
  return (min === undefined || v >= min) && (max === undefined || v < max);
}

const label = (r: RoutingRule, i: number) => (r.name ? `"${r.name}"` : `#${i + 1}`);

const perMillionMicros = (usd: number) => BigInt(Math.round(usd * 1e6));

/**
 * Why no provider serves a model: the request's (or tenant's) preferences or data policy left out
 * every provider that could (`preferred` lists those), which no retry changes (404, as OpenRouter
 * answers); or none is configured at all, an outage of the platform's making (503).
 */
function noProvider(id: string, preferred: string[]): DomainError {
  if (preferred.length > 0) {
    return new DomainError(ErrorCode.NotFound, `No allowed providers are available for ${id}: the routing preferences or data policy exclude ${preferred.join(', ')}`, {
      param: 'provider',
      meta: { model: id, available_providers: preferred },
    });
  }
  return new DomainError(ErrorCode.NoAvailableProvider, `No provider can serve ${id}`, { retryAfterSeconds: 30 });
}

/**
 * The providers that may serve a model, in the order they should be tried (`served`), and, when
 * none may, the providers that could have but the preferences left out (`preferred`).
 */
function providersFor(model: PlannableModel, prefs: ProviderPrefs, input: PlanInput, allowed: (m: PlannableModel) => boolean): { served: PlannableModel[]; preferred: string[] } {
  const excluded = new Set(input.document.data_policy.excluded_providers);
  const usable = input.catalog.equivalents(model.canonical).filter((m) => allowed(m) && input.isAvailable(m));
  let list = usable.filter((m) => {
    if (excluded.has(m.provider)) return false;
    if (prefs.only?.length && !prefs.only.includes(m.provider)) return false;
    if (prefs.ignore?.includes(m.provider)) return false;
    if (prefs.allow_fallbacks === false && prefs.order?.length && !prefs.order.includes(m.provider)) return false;
    if (prefs.max_price?.prompt !== undefined && m.price.input > perMillionMicros(prefs.max_price.prompt)) return false;
    if (prefs.max_price?.completion !== undefined && m.price.output > perMillionMicros(prefs.max_price.completion)) return false;
    return true;
  });
  // allow_fallbacks: false without an order pins the request to the provider it named.
  if (prefs.allow_fallbacks === false && !prefs.order?.length) list = list.filter((m) => m.id === model.id);
  if (list.length === 0) return { served: [], preferred: [...new Set(usable.map((m) => m.provider))] };

  const health = input.health;
  list.sort((a, b) => {
    const open = Number(health(a).open) - Number(health(b).open);
    if (open !== 0) return open;
    if (prefs.order?.length) {
      const ia = rank(prefs.order, a.provider);
      const ib = rank(prefs.order, b.provider);
      if (ia !== ib) return ia - ib;
    }
    if (prefs.sort === 'price') return BALANCE.cheapest(a, b, health);
    if (prefs.sort === 'latency' || prefs.sort === 'throughput') return latency(a, health) - latency(b, health);
    if (prefs.sort === 'least_busy') return BALANCE.least_busy(a, b, health);
    if (a.id === model.id) return -1;
    if (b.id === model.id) return 1;
    return cmp(price(a), price(b));
  });
  return { served: list, preferred: [] };
}

const rank = (order: string[], p: string) => (order.includes(p) ? order.indexOf(p) : order.length);
const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

function dedupe(attempts: PlannedAttempt[]): PlannedAttempt[] {
  const seen = new Set<string>();
  return attempts.filter((a) => !seen.has(a.model.id) && seen.add(a.model.id));
}

/** Max-cost rules drop attempts whose worst case exceeds the cap; nothing left is a 402. */
function applyMaxCost(attempts: PlannedAttempt[], name: string, input: PlanInput, decisions: string[]): PlannedAttempt[] {
  let out = attempts;
  for (const [i, rule] of input.document.rules.entries()) {
    if (rule.type !== 'max_cost' || !ruleMatches(rule, name)) continue;
    const cap = perMillionMicros(rule.max_usd);
    const kept = out.filter((a) => input.worstCase(a.model) <= cap);
    if (kept.length === 0) {
      throw new DomainError(
        ErrorCode.RequestExceedsBudget,
        `Routing rule ${label(rule, i)} caps a request at ${rule.max_usd} USD; this request could cost up to ` +
          `${microsToUsd(input.worstCase(out[0].model))} USD on ${out[0].model.id}. Lower max_tokens or shorten the prompt.`,
        { meta: { rule: i } },
      );
    }
    if (kept[0] !== out[0]) decisions.push(`rule ${label(rule, i)}: max cost ${rule.max_usd} USD -> ${kept[0].model.id}`);
    out = kept;
  }
  return out;
}
