import { ErrorCode } from '@gw/core';
import { ProviderRegistry } from '@gw/llm';
import { normalizeProviderPreferences } from './provider-preferences';

const registry = new ProviderRegistry();

describe('normalizeProviderPreferences', () => {
  it("reads OpenRouter's provider names as the gateway's ids", () => {
    expect(normalizeProviderPreferences({ order: ['DeepSeek', 'Google AI Studio'], only: ['Anthropic', 'OpenAI'], ignore: ['google-ai-studio'] }, registry)).toEqual({
      order: ['deepseek', 'google'],
      only: ['anthropic', 'openai'],
      ignore: ['google'],
    });
  });

  it('leaves out of order and ignore a provider the gateway never calls; refuses an only that names none it knows', () => {
    expect(normalizeProviderPreferences({ ignore: ['openai', 'DeepInfra'], order: ['Azure', 'OpenAI', 'DeepInfra'], only: ['DeepInfra', 'OpenAI'] }, registry)).toEqual({
      ignore: ['openai'],
      order: ['azure', 'openai'],
      only: ['openai'],
    });
    // Vertex AI is not the gateway's google (AI Studio): an allow-list of it allows nothing here.
    expect(() => normalizeProviderPreferences({ only: ['google-vertex', 'DeepInfra'] }, registry)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidBody, details: expect.objectContaining({ param: 'provider.only[0]' }) }),
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
