import { ProviderRegistry } from './registry';

describe('ProviderRegistry', () => {
  it('lists every built-in adapter and finds them by id', () => {
    const r = new ProviderRegistry();
    expect(r.ids().sort()).toEqual(
      ['anthropic', 'deepseek', 'fireworks', 'groq', 'mistral', 'moonshot', 'openai', 'openrouter', 'perplexity', 'qwen', 'together', 'xai'].sort(),
    );
    expect(r.all()).toHaveLength(12);
    expect(r.get('anthropic')?.defaultBaseUrl).toBe('https://api.anthropic.com');
    expect(r.get('nope')).toBeUndefined();
    expect(r.has('openai')).toBe(true);
  });

  it('declares the wire format of every adapter', () => {
    const r = new ProviderRegistry();
    expect(r.get('anthropic')?.wireFormat).toBe('anthropic');
    expect(r.all().filter((a) => a.wireFormat === 'openai')).toHaveLength(11);
  });

  it('gives every adapter a distinct env prefix', () => {
    const prefixes = new ProviderRegistry().all().map((a) => a.envPrefix);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('refuses duplicate ids', () => {
    const r = new ProviderRegistry();
    const a = r.get('openai');
    if (!a) throw new Error('missing');
    expect(() => new ProviderRegistry([a, a])).toThrow(/Duplicate/);
  });
});
