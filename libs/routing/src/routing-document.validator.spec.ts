import { DomainError } from '@gw/core';
import { defaultRoutingDocument } from './routing-document';
import { validateRoutingDocument } from './routing-document.validator';

const providers = ['openai', 'anthropic', 'deepseek'];

function paramOf(input: unknown): string | undefined {
  try {
    validateRoutingDocument(input, { providers });
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    const d = e as DomainError;
    expect(d.message.startsWith(d.details.param!)).toBe(true);
    return d.details.param;
  }
  return undefined;
}

const full = {
  version: 1,
  aliases: {
    'my-fast': { strategy: 'ordered', targets: [{ model: 'openai/gpt-4o-mini' }, { model: 'anthropic/claude-haiku-4.5' }] },
    cheap: { strategy: 'weighted', targets: [{ model: 'deepseek/deepseek-chat', weight: 3 }, { model: 'openai/gpt-4o-mini', weight: 1 }] },
  },
  provider_preferences: { order: ['anthropic', 'openai'], ignore: ['deepseek'], allow_fallbacks: true, sort: 'price', max_price: { prompt: 5, completion: 15.5 } },
  unsupported_params: 'drop',
  data_policy: { excluded_providers: ['deepseek'] },
  rules: [
    { type: 'size', name: 'long prompts', models: ['my-fast'], min_prompt_tokens: 100000, target: 'anthropic/claude-sonnet-4.5' },
    { type: 'max_cost', max_usd: 0.5 },
    { type: 'split', models: ['openai/*'], targets: [{ model: 'openai/gpt-4o-mini', weight: 9 }, { model: 'openai/gpt-4.1-mini', weight: 1 }] },
  ],
  timeouts: { first_byte_ms: 5000, idle_ms: 20000, total_ms: 600000 },
  byok_fallback_to_platform: true,
};

describe('validateRoutingDocument', () => {
  it('accepts a full document and returns it normalized', () => {
    expect(validateRoutingDocument(full, { providers })).toEqual(full);
  });

  it('fills missing sections with defaults; an empty object is the default document', () => {
    expect(validateRoutingDocument({})).toEqual(defaultRoutingDocument());
    const doc = validateRoutingDocument({ aliases: { a: { targets: [{ model: 'openai/gpt-4o' }] } } });
    expect(doc.aliases.a).toEqual({ strategy: 'ordered', targets: [{ model: 'openai/gpt-4o' }] });
    expect(doc.unsupported_params).toBe('reject');
  });

  it('accepts the balancing strategies and least_busy, without weights', () => {
    for (const strategy of ['cheapest', 'lowest_latency', 'least_busy']) {
      const doc = validateRoutingDocument({ aliases: { b: { strategy, targets: [{ model: 'openai/gpt-4o' }, { model: 'openai/gpt-4o-mini' }] } } });
      expect(doc.aliases.b.strategy).toBe(strategy);
    }
    expect(validateRoutingDocument({ provider_preferences: { sort: 'least_busy' } }).provider_preferences.sort).toBe('least_busy');
  });

  it.each([
    [[], 'body'],
    ['text', 'body'],
    [{ extra: 1 }, 'extra'],
    [{ version: 2 }, 'version'],
    [{ aliases: [] }, 'aliases'],
    [{ aliases: { 'my/fast': { targets: [{ model: 'openai/x' }] } } }, 'aliases.my/fast'],
    [{ aliases: { 'my-fast': { targets: [{ model: 'gpt-4o' }] } } }, 'aliases.my-fast.targets[0].model'],
    [{ aliases: { 'my-fast': { targets: [{ model: 'openai/a' }, { model: 42 }] } } }, 'aliases.my-fast.targets[1].model'],
    [{ aliases: { 'my-fast': { targets: [{ model: 'nope/a' }] } } }, 'aliases.my-fast.targets[0].model'],
    [{ aliases: { 'my-fast': { targets: [] } } }, 'aliases.my-fast.targets'],
    [{ aliases: { 'my-fast': { targets: [{ model: 'openai/a' }, { model: 'openai/a' }] } } }, 'aliases.my-fast.targets[1].model'],
    [{ aliases: { 'my-fast': { strategy: 'random', targets: [{ model: 'openai/a' }] } } }, 'aliases.my-fast.strategy'],
    [{ aliases: { 'my-fast': { strategy: 'cheapest', targets: [{ model: 'openai/a', weight: 2 }] } } }, 'aliases.my-fast.targets[0].weight'],
    [{ aliases: { 'my-fast': { strategy: 'weighted', targets: [{ model: 'openai/a' }] } } }, 'aliases.my-fast.targets[0].weight'],
    [{ aliases: { 'my-fast': { strategy: 'weighted', targets: [{ model: 'openai/a', weight: 0 }] } } }, 'aliases.my-fast.targets[0].weight'],
    [{ aliases: { 'my-fast': { targets: [{ model: 'openai/a', weight: 2 }] } } }, 'aliases.my-fast.targets[0].weight'],
    [{ aliases: { 'my-fast': { targets: [{ model: 'openai/a', colour: 'red' }] } } }, 'aliases.my-fast.targets[0].colour'],
    [{ aliases: { x: { targets: [{ model: `openai/${'a'.repeat(300)}` }] } } }, 'aliases.x.targets[0].model'],
    [{ provider_preferences: { order: 'openai' } }, 'provider_preferences.order'],
    [{ provider_preferences: { order: ['openai', 'mars'] } }, 'provider_preferences.order[1]'],
    [{ provider_preferences: { only: ['openai', 'openai'] } }, 'provider_preferences.only'],
    [{ provider_preferences: { only: ['openai'], ignore: ['openai'] } }, 'provider_preferences.ignore'],
    [{ provider_preferences: { sort: 'cheapest' } }, 'provider_preferences.sort'],
    [{ provider_preferences: { allow_fallbacks: 'yes' } }, 'provider_preferences.allow_fallbacks'],
    [{ byok_fallback_to_platform: 'yes' }, 'byok_fallback_to_platform'],
    [{ provider_preferences: { max_price: { prompt: -1 } } }, 'provider_preferences.max_price.prompt'],
    [{ provider_preferences: { max_price: { prompt: 0.0000001 } } }, 'provider_preferences.max_price.prompt'],
    [{ provider_preferences: { max_price: { image: 1 } } }, 'provider_preferences.max_price.image'],
    [{ unsupported_params: 'ignore' }, 'unsupported_params'],
    [{ data_policy: { excluded_providers: ['mars'] } }, 'data_policy.excluded_providers[0]'],
    [{ data_policy: { zdr: true } }, 'data_policy.zdr'],
    [{ rules: {} }, 'rules'],
    [{ rules: [{ type: 'geo' }] }, 'rules[0].type'],
    [{ rules: [{ type: 'size', target: 'openai/a' }] }, 'rules[0].min_prompt_tokens'],
    [{ rules: [{ type: 'size', min_prompt_tokens: 10, max_prompt_tokens: 5, target: 'openai/a' }] }, 'rules[0].max_prompt_tokens'],
    [{ rules: [{ type: 'size', min_prompt_tokens: 10, target: 'missing-alias' }] }, 'rules[0].target'],
    [{ rules: [{ type: 'max_cost', max_usd: 0 }] }, 'rules[0].max_usd'],
    [{ rules: [{ type: 'max_cost', max_usd: 1, target: 'openai/a' }] }, 'rules[0].target'],
    [{ rules: [{ type: 'split', targets: [{ model: 'openai/a', weight: 1 }] }] }, 'rules[0].targets'],
    [{ rules: [{ type: 'split', models: [], targets: [] }] }, 'rules[0].models'],
    [{ rules: [{ type: 'max_cost', max_usd: 1, models: ['open ai'] }] }, 'rules[0].models[0]'],
  ])('refuses %j naming %s', (input, param) => {
    expect(paramOf(input)).toBe(param);
  });

  it('caps the number of aliases and never touches Object.prototype', () => {
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, { targets: [{ model: 'openai/x' }] }]));
    expect(paramOf({ aliases: many })).toBe('aliases');
    const doc = validateRoutingDocument(JSON.parse('{"aliases":{"toString":{"targets":[{"model":"openai/x"}]}}}'));
    expect(Object.keys(doc.aliases)).toEqual(['toString']);
    expect(paramOf(JSON.parse('{"aliases":{"__proto__":{"targets":[{"model":"openai/x"}]}}}'))).toBe('aliases.__proto__');
    expect(({} as Record<string, unknown>).targets).toBeUndefined();
  });

  it('accepts any provider when no provider list is given', () => {
    expect(validateRoutingDocument({ aliases: { a: { targets: [{ model: 'mars/x' }] } } }).aliases.a!.targets[0]!.model).toBe('mars/x');
  });
});
