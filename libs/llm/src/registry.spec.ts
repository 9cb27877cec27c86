import { builtInAdapters } from './providers';
import { ProviderRegistry } from './registry';

describe('ProviderRegistry', () => {
  it('lists every built-in adapter and finds them by id', () => {
    const r = new ProviderRegistry();
    expect(r.ids().sort()).toEqual(
      ['anthropic', 'azure', 'deepseek', 'fireworks', 'google', 'groq', 'mistral', 'moonshot', 'openai', 'openrouter', 'perplexity', 'qwen', 'together', 'xai'].sort(),
    );
    expect(r.all()).toHaveLength(14);
    expect(r.get('anthropic')?.defaultBaseUrl).toBe('https://api.anthropic.com');
    expect(r.get('nope')).toBeUndefined();
    expect(r.has('openai')).toBe(true);
  });

  it("resolves a client's provider names case-insensitively, OpenRouter's slugs and display names included", () => {
    const r = new ProviderRegistry();
    expect(['DeepSeek', ' openai ', 'Anthropic', 'Google AI Studio', 'google-vertex', 'google-ai-studio', 'xAI', 'x-ai', 'Moonshot AI', 'moonshotai', 'Alibaba', 'Together AI', 'Azure'].map((n) => r.resolve(n))).toEqual([
      'deepseek',
      'openai',
      'anthropic',
      'google',
      // Vertex AI is another Google service than the Gemini API the gateway's google calls.
      undefined,
      'google',
      'xai',
      'xai',
      'moonshot',
      'moonshot',
      'qwen',
      'together',
      'azure',
    ]);
    expect(r.resolve('DeepInfra')).toBeUndefined();
    expect(r.resolve('')).toBeUndefined();
  });

  it('refuses two providers claiming one name', () => {
    const [a, b] = builtInAdapters();
    expect(() => new ProviderRegistry([a, { ...b, id: 'other', aliases: [a.id.toUpperCase()] }])).toThrow(/claimed/);
  });

  it('declares the wire format of every adapter', () => {
    const r = new ProviderRegistry();
    expect(r.get('anthropic')?.wireFormat).toBe('anthropic');
    expect(r.get('google')?.wireFormat).toBe('gemini');
    expect(r.all().filter((a) => a.wireFormat === 'openai')).toHaveLength(12);
  });

  it('gives embeddings methods exactly to the providers that have an embeddings endpoint', () => {
    const withEmbeddings = new ProviderRegistry()
      .all()
      .filter((a) => a.buildEmbeddingsRequest !== undefined && a.parseEmbeddingsResponse !== undefined)
      .map((a) => a.id)
      .sort();
    expect(withEmbeddings).toEqual(['azure', 'fireworks', 'google', 'mistral', 'openai', 'openrouter', 'qwen', 'together']);
    for (const a of new ProviderRegistry().all()) expect(a.buildEmbeddingsRequest === undefined).toBe(a.parseEmbeddingsResponse === undefined);
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

describe('builtInAdapters', () => {
  it('passes deployment settings to the adapters that take them (Azure api-version)', () => {
    const azure = new ProviderRegistry(builtInAdapters({ azure: { apiVersion: '2025-01-01-preview' } })).get('azure');
    const up = azure?.buildChatRequest({ model: 'azure/x', messages: [{ role: 'user', content: 'hi' }] }, { baseUrl: 'https://r.openai.azure.com', apiKey: 'k', upstreamModel: 'dep' }, { stream: false, unsupportedParams: 'reject' });
    expect(up?.url).toBe('https://r.openai.azure.com/openai/deployments/dep/chat/completions?api-version=2025-01-01-preview');
  });
});
