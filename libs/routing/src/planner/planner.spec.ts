import { DomainError, ErrorCode } from '@gw/core';
import { defaultRoutingDocument, type RoutingDocument } from '../routing-document';
import type { PlannableModel, TargetHealth } from './plan.types';
import { planRoute, type PlanInput } from './planner';

const M = (id: string, input: number, output: number, canonical = id): PlannableModel => ({
  id,
  provider: id.split('/')[0],
  canonical,
  price: { input: BigInt(input * 1e6), output: BigInt(output * 1e6), cacheRead: null, cacheWrite: null },
});

const models = [
  M('openai/gpt-4o', 2.5, 10),
  M('azure/gpt-4o', 2, 9, 'openai/gpt-4o'),
  M('openrouter/openai/gpt-4o', 3, 12, 'openai/gpt-4o'),
  M('openai/gpt-4o-mini', 0.15, 0.6),
  M('anthropic/claude-sonnet-4.5', 3, 15),
  M('anthropic/claude-haiku-4.5', 1, 5),
];

function input(over: Partial<PlanInput> = {}, doc: Partial<RoutingDocument> = {}): PlanInput {
  const byId = new Map(models.map((m) => [m.id, m]));
  return {
    model: 'openai/gpt-4o',
    document: { ...defaultRoutingDocument(), ...doc },
    catalog: { get: (id) => byId.get(id), equivalents: (c) => models.filter((m) => m.canonical === c) },
    isAllowed: () => true,
    isAvailable: () => true,
    health: (): TargetHealth => ({ open: false, errorRate: 0, inFlight: 0 }),
    promptTokens: 100,
    worstCase: (m) => m.price.output / 1000n,
    random: () => 0.5,
    ...over,
  };
}

const ids = (i: PlanInput) => planRoute(i).attempts.map((a) => a.model.id);

describe('planRoute', () => {
  it.each<[string, Partial<PlanInput>, string[]]>([
    ['named provider first, then equivalents by price', {}, ['openai/gpt-4o', 'azure/gpt-4o', 'openrouter/openai/gpt-4o']],
    ['allow_fallbacks false pins the provider', { provider: { allow_fallbacks: false } }, ['openai/gpt-4o']],
    ['order', { provider: { order: ['openrouter', 'openai'] } }, ['openrouter/openai/gpt-4o', 'openai/gpt-4o', 'azure/gpt-4o']],
    ['order without fallbacks', { provider: { order: ['openrouter'], allow_fallbacks: false } }, ['openrouter/openai/gpt-4o']],
    ['only', { provider: { only: ['azure'] } }, ['azure/gpt-4o']],
    ['ignore', { provider: { ignore: ['azure', 'openrouter'] } }, ['openai/gpt-4o']],
    ['sort price', { provider: { sort: 'price' } }, ['azure/gpt-4o', 'openai/gpt-4o', 'openrouter/openai/gpt-4o']],
    [':floor suffix sorts by price', { model: 'openai/gpt-4o:floor' }, ['azure/gpt-4o', 'openai/gpt-4o', 'openrouter/openai/gpt-4o']],
    ['max_price', { provider: { max_price: { prompt: 2.5 } } }, ['openai/gpt-4o', 'azure/gpt-4o']],
    ['request fallbacks after the equivalents', { provider: { only: ['openai'] }, fallbacks: ['anthropic/claude-haiku-4.5'] }, ['openai/gpt-4o']],
    ['fallback list', { model: 'openai/gpt-4o-mini', fallbacks: ['anthropic/claude-haiku-4.5', 'openai/gpt-4o-mini'] }, ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4.5']],
  ])('%s', (_, over, expected) => {
    expect(ids(input(over))).toEqual(expected);
  });

  it(':nitro sorts by measured latency, unknown last', () => {
    const lat: Record<string, number> = { 'azure/gpt-4o': 300, 'openrouter/openai/gpt-4o': 120 };
    const i = input({ model: 'openai/gpt-4o:nitro', health: (m) => ({ open: false, errorRate: 0, inFlight: 0, latencyMs: lat[m.id] }) });
    expect(ids(i)).toEqual(['openrouter/openai/gpt-4o', 'azure/gpt-4o', 'openai/gpt-4o']);
  });

  it('sort least_busy puts the provider with the fewest requests in flight first, ties by price', () => {
    const busy: Record<string, number> = { 'openai/gpt-4o': 7, 'azure/gpt-4o': 3, 'openrouter/openai/gpt-4o': 0 };
    const i = input({ provider: { sort: 'least_busy' }, health: (m) => ({ open: false, errorRate: 0, inFlight: busy[m.id] }) });
    expect(ids(i)).toEqual(['openrouter/openai/gpt-4o', 'azure/gpt-4o', 'openai/gpt-4o']);
    busy['openrouter/openai/gpt-4o'] = 3;
    expect(ids(i)).toEqual(['azure/gpt-4o', 'openrouter/openai/gpt-4o', 'openai/gpt-4o']);
  });

  it.each<[string, string[]]>([
    ['cheapest', ['anthropic/claude-haiku-4.5', 'openai/gpt-4o', 'anthropic/claude-sonnet-4.5']],
    ['lowest_latency', ['anthropic/claude-sonnet-4.5', 'openai/gpt-4o', 'anthropic/claude-haiku-4.5']],
    ['least_busy', ['openai/gpt-4o', 'anthropic/claude-sonnet-4.5', 'anthropic/claude-haiku-4.5']],
  ])('an alias with strategy %s orders its targets per request', (strategy, expected) => {
    const stats: Record<string, { latencyMs?: number; inFlight: number }> = {
      'anthropic/claude-sonnet-4.5': { latencyMs: 200, inFlight: 4 },
      'openai/gpt-4o': { latencyMs: 450, inFlight: 1 },
      'anthropic/claude-haiku-4.5': { inFlight: 9 },
    };
    const doc = {
      aliases: {
        pool: {
          strategy: strategy as 'cheapest',
          targets: [{ model: 'anthropic/claude-sonnet-4.5' }, { model: 'anthropic/claude-haiku-4.5' }, { model: 'openai/gpt-4o' }],
        },
      },
    };
    const plan = planRoute(input({ model: 'pool', provider: { only: ['openai', 'anthropic'] }, health: (m) => ({ open: false, errorRate: 0, ...(stats[m.id] ?? { inFlight: 0 }) }) }, doc));
    expect(plan.attempts.map((a) => a.model.id)).toEqual(expected);
    expect(plan.decisions[0]).toBe(`alias pool: ${strategy} -> ${expected.join(', ')}`);
  });

  it('moves open circuits last instead of dropping them', () => {
    const i = input({ health: (m) => ({ open: m.id === 'openai/gpt-4o', errorRate: 1, inFlight: 0 }) });
    expect(ids(i)).toEqual(['azure/gpt-4o', 'openrouter/openai/gpt-4o', 'openai/gpt-4o']);
  });

  it('skips unavailable providers and excluded ones (data policy)', () => {
    const i = input({ isAvailable: (m) => m.provider !== 'azure' }, { data_policy: { excluded_providers: ['openrouter'] } });
    expect(ids(i)).toEqual(['openai/gpt-4o']);
  });

  it('expands ordered and weighted aliases', () => {
    const doc = {
      aliases: {
        fast: { strategy: 'ordered' as const, targets: [{ model: 'openai/gpt-4o-mini' }, { model: 'anthropic/claude-haiku-4.5' }] },
        ab: { strategy: 'weighted' as const, targets: [{ model: 'openai/gpt-4o-mini', weight: 1 }, { model: 'anthropic/claude-haiku-4.5', weight: 3 }] },
      },
    };
    expect(ids(input({ model: 'fast' }, doc))).toEqual(['openai/gpt-4o-mini', 'anthropic/claude-haiku-4.5']);
    expect(ids(input({ model: 'ab', random: () => 0.1 }, doc))).toEqual(['openai/gpt-4o-mini', 'anthropic/claude-haiku-4.5']);
    expect(ids(input({ model: 'ab', random: () => 0.5 }, doc))).toEqual(['anthropic/claude-haiku-4.5', 'openai/gpt-4o-mini']);
  });

  it('routes short prompts to the cheaper model by a size rule, and says so', () => {
    const doc = { rules: [{ type: 'size' as const, name: 'short', max_prompt_tokens: 500, target: 'openai/gpt-4o-mini' }] };
    const short = planRoute(input({ model: 'anthropic/claude-sonnet-4.5', promptTokens: 120 }, doc));
    expect(short.attempts.map((a) => a.model.id)).toEqual(['openai/gpt-4o-mini', 'anthropic/claude-sonnet-4.5']);
    expect(short.decisions.join(' ')).toContain('rule "short"');
    expect(ids(input({ model: 'anthropic/claude-sonnet-4.5', promptTokens: 500 }, doc))).toEqual(['anthropic/claude-sonnet-4.5']);
  });

  it('sends 5% ± 1% of 10,000 planned requests to a canary split, and honours weights', () => {
    const doc = { rules: [{ type: 'split' as const, models: ['openai/gpt-4o-mini'], targets: [{ model: 'openai/gpt-4o-mini', weight: 95 }, { model: 'anthropic/claude-haiku-4.5', weight: 5 }] }] };
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let canary = 0;
    for (let i = 0; i < 10_000; i++) if (ids(input({ model: 'openai/gpt-4o-mini', random }, doc))[0] === 'anthropic/claude-haiku-4.5') canary++;
    expect(canary).toBeGreaterThanOrEqual(400);
    expect(canary).toBeLessThanOrEqual(600);
  });

  it('keeps a sticky end user on one side of a split', () => {
    const doc = { rules: [{ type: 'split' as const, targets: [{ model: 'openai/gpt-4o-mini', weight: 50 }, { model: 'anthropic/claude-haiku-4.5', weight: 50 }] }] };
    const first = ids(input({ model: 'openai/gpt-4o-mini', stickyKey: 'user-7', random: Math.random }, doc))[0];
    for (let i = 0; i < 20; i++) expect(ids(input({ model: 'openai/gpt-4o-mini', stickyKey: 'user-7', random: Math.random }, doc))[0]).toBe(first);
    let canary = 0;
    for (let u = 0; u < 2000; u++) if (ids(input({ model: 'openai/gpt-4o-mini', stickyKey: `u${u}` }, doc))[0] === 'anthropic/claude-haiku-4.5') canary++;
    expect(canary).toBeGreaterThan(850);
    expect(canary).toBeLessThan(1150);
  });

  it('downgrades under a max-cost rule when a cheaper attempt exists, refuses otherwise', () => {
    const doc = { rules: [{ type: 'max_cost' as const, max_usd: 0.008 }] };
    const p = planRoute(input({ model: 'anthropic/claude-sonnet-4.5', fallbacks: ['openai/gpt-4o-mini'] }, doc));
    expect(p.attempts.map((a) => a.model.id)).toEqual(['openai/gpt-4o-mini']);
    expect(p.decisions.join(' ')).toContain('max cost');
    const refused = (() => {
      try {
        planRoute(input({ model: 'anthropic/claude-sonnet-4.5' }, doc));
      } catch (e) {
        return e as DomainError;
      }
    })();
    expect(refused?.code).toBe(ErrorCode.RequestExceedsBudget);
  });

  it('names the first problem when nothing is usable', () => {
    expect(() => planRoute(input({ model: 'nope/x' }))).toThrow(expect.objectContaining({ code: ErrorCode.ModelNotFound }));
    expect(() => planRoute(input({ isAllowed: () => false }))).toThrow(expect.objectContaining({ code: ErrorCode.ModelNotAllowed }));
    expect(() => planRoute(input({ isAvailable: () => false }))).toThrow(expect.objectContaining({ code: ErrorCode.NoAvailableProvider }));
  });

  it('answers 404 naming provider, not a retryable 503, when the preferences leave out every provider that could serve', () => {
    for (const over of [{ provider: { only: ['anthropic'] } }, { provider: { max_price: { prompt: 0.01 } } }, { provider: { order: ['nobody'], allow_fallbacks: false } }]) {
      const refused = (() => {
        try {
          planRoute(input(over));
        } catch (e) {
          return e as DomainError;
        }
      })();
      expect(refused).toMatchObject({ code: ErrorCode.NotFound, details: { param: 'provider', meta: { available_providers: ['openai', 'azure', 'openrouter'] } } });
      expect(refused?.details.retryAfterSeconds).toBeUndefined();
    }
    const policy = input({}, { data_policy: { ...defaultRoutingDocument().data_policy, excluded_providers: ['openai', 'azure', 'openrouter'] } });
    expect(() => planRoute(policy)).toThrow(expect.objectContaining({ code: ErrorCode.NotFound }));
  });

  it("takes the request's provider object whole over the tenant's defaults", () => {
    const doc = { provider_preferences: { only: ['anthropic'], max_price: { prompt: 1 } } };
    expect(() => planRoute(input({}, doc))).toThrow(expect.objectContaining({ code: ErrorCode.NotFound }));
    expect(ids(input({ provider: { order: ['openai'] } }, doc))).toEqual(['openai/gpt-4o', 'azure/gpt-4o', 'openrouter/openai/gpt-4o']);
  });

  it("lets a key allowed an alias use the alias's targets and their providers; other keys only the providers they are allowed", () => {
    const aliases = { 'my-fast': { strategy: 'ordered' as const, targets: [{ model: 'openai/gpt-4o-mini' }, { model: 'openai/gpt-4o' }] } };
    const onlyAlias = (id: string) => id === 'my-fast';
    expect(ids(input({ model: 'my-fast', isAllowed: onlyAlias }, { aliases }))).toEqual(['openai/gpt-4o-mini', 'openai/gpt-4o', 'azure/gpt-4o', 'openrouter/openai/gpt-4o']);
    // The alias in the fallbacks grants its targets wherever they appear (openai/gpt-4o is one).
    expect(ids(input({ model: 'openai/gpt-4o', fallbacks: ['my-fast'], isAllowed: (id) => id === 'openai/gpt-4o' || id === 'my-fast' }, { aliases }))).toEqual([
      'openai/gpt-4o',
      'azure/gpt-4o',
      'openrouter/openai/gpt-4o',
      'openai/gpt-4o-mini',
    ]);
    // Allowed the model by name: its equivalents at other providers are other models, not allowed.
    const named = input({ isAllowed: (id) => id === 'openai/gpt-4o', provider: { order: ['azure'] } });
    expect(ids(named)).toEqual(['openai/gpt-4o']);
    expect(() => planRoute(input({ model: 'azure/gpt-4o', isAllowed: (id) => id === 'openai/gpt-4o' }))).toThrow(expect.objectContaining({ code: ErrorCode.ModelNotAllowed }));
  });
});
