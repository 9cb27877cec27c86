import { ErrorCode } from '@gw/core';
import { ProviderRegistry } from '@gw/llm';
import { normalizeProviderPreferences } from './provider-preferences';

const registry = new ProviderRegistry();

describe('normalizeProviderPreferences', () => {
  it("reads OpenRouter's provider names as the gateway's ids", () => {
    expect(normalizeProviderPreferences({ order: ['DeepSeek', 'Google AI Studio'], only: ['Anthropic', 'OpenAI'], ignore: ['google-vertex'] }, registry)).toEqual({
      order: ['deepseek', 'google'],
      only: ['anthropic', 'openai'],
      ignore: ['google'],
    });
  });

  it('refuses a provider name the gateway does not know, naming the entry', () => {
    expect(() => normalizeProviderPreferences({ ignore: ['openai', 'DeepInfra'] }, registry)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidBody, details: expect.objectContaining({ param: 'provider.ignore[1]' }) }),
    );
  });

  it('takes the object form of sort as its `by`', () => {
    expect(normalizeProviderPreferences({ sort: { by: 'price', partition: 'none' } }, registry)).toEqual({ sort: 'price' });
  });

  it('returns preferences already in the gateway\'s terms as they are', () => {
    const prefs = { order: ['openai'], sort: 'latency' as const, allow_fallbacks: false };
    expect(normalizeProviderPreferences(prefs, registry)).toBe(prefs);
    expect(normalizeProviderPreferences(undefined, registry)).toBeUndefined();
  });
});
