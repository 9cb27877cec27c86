import { DomainError, ErrorCode } from '@gw/core';
import { base64ToFloats, floatsToBase64 } from '../../embeddings';
import type { ChatRequest, EmbeddingsRequest } from '../../openai.types';
import type { EmbeddingsContext, ProviderAdapter } from '../../provider';
import { ProviderRegistry } from '../../registry';

const registry = new ProviderRegistry();
const get = (id: string): ProviderAdapter => {
  const a = registry.get(id);
  if (a === undefined) throw new Error(id);
  return a;
};
const target = { baseUrl: '', apiKey: 'k', upstreamModel: 'text-embedding-3-small' };
const ctx: EmbeddingsContext = { id: 'gen-e', model: 'openai/text-embedding-3-small', created: 1 };
const buildEmb = (id: string, req: EmbeddingsRequest, policy: 'reject' | 'drop' = 'reject') => {
  const a = get(id);
  if (a.buildEmbeddingsRequest === undefined) throw new Error(`${id} has no embeddings`);
  return a.buildEmbeddingsRequest(req, target, { unsupportedParams: policy });
};
const parseEmb = (id: string, body: unknown, c: EmbeddingsContext = ctx) => {
  const a = get(id);
  if (a.parseEmbeddingsResponse === undefined) throw new Error(`${id} has no embeddings`);
  return a.parseEmbeddingsResponse(body, c);
};

describe('OpenAI-compatible embeddings', () => {
  it('posts to <base>/embeddings with the upstream model, base64 passed to vendors that honour it', () => {
    const up = buildEmb('openai', { model: 'openai/text-embedding-3-small', input: 'hi', encoding_format: 'base64', dimensions: 8, user: 'u' });
    expect(up.url).toBe('https://api.openai.com/v1/embeddings');
    expect(up.headers.authorization).toBe('Bearer k');
    expect(JSON.parse(up.body)).toEqual({ model: 'text-embedding-3-small', input: 'hi', encoding_format: 'base64', dimensions: 8, user: 'u' });
  });

  it('asks other vendors for floats, renames and drops per vendor', () => {
    const mistral = JSON.parse(buildEmb('mistral', { model: 'm', input: ['a'], encoding_format: 'base64', dimensions: 256, user: 'u' }).body);
    expect(mistral).toEqual({ model: 'text-embedding-3-small', input: ['a'], output_dimension: 256 });
    expect(() => buildEmb('together', { model: 'm', input: 'a', dimensions: 8 })).toThrow(DomainError);
    expect(JSON.parse(buildEmb('together', { model: 'm', input: 'a', dimensions: 8 }, 'drop').body)).toEqual({ model: 'text-embedding-3-small', input: 'a' });
  });

  it('refuses malformed input before any upstream call', () => {
    expect(() => buildEmb('openai', { model: 'm', input: [] })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidBody }));
    expect(() => buildEmb('openai', { model: 'm', input: [1, 2, 3] })).not.toThrow();
  });

  it('returns the encoding the client asked for whatever the vendor sent, with usage', () => {
    const floats = { object: 'list', data: [{ object: 'embedding', index: 1, embedding: [0.5] }, { object: 'embedding', index: 0, embedding: [1, -2] }], model: 'x', usage: { prompt_tokens: 5, total_tokens: 5 } };
    const asBase64 = parseEmb('mistral', floats, { ...ctx, encodingFormat: 'base64' });
    expect(asBase64.response.data).toEqual([
      { object: 'embedding', index: 0, embedding: floatsToBase64([1, -2]) },
      { object: 'embedding', index: 1, embedding: floatsToBase64([0.5]) },
    ]);
    expect(asBase64.response.model).toBe('openai/text-embedding-3-small');
    expect(asBase64.usage).toEqual({ promptTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 0, reasoningTokens: 0 });
    const b64 = { data: [{ index: 0, embedding: floatsToBase64([0.25, 3]) }] };
    expect(parseEmb('openai', b64).response.data[0].embedding).toEqual([0.25, 3]);
    expect(parseEmb('openai', b64).usage).toBeUndefined();
    expect(base64ToFloats(floatsToBase64([1.5, -0.125]))).toEqual([1.5, -0.125]);
  });

  it('maps a 200 body carrying an error and rejects unusable bodies', () => {
    expect(() => parseEmb('openai', { error: { message: 'x', type: 'server_error', code: 500 } })).toThrow(expect.objectContaining({ code: ErrorCode.UpstreamError }));
    expect(() => parseEmb('openai', { data: [{ embedding: 'not-a-vector', index: 0 }, { embedding: { a: 1 } }] })).toThrow(expect.objectContaining({ code: ErrorCode.UpstreamBadResponse }));
  });
});

describe('OpenAI-compatible cache_control hints', () => {
  const req: ChatRequest = {
    model: 'm',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral' } }] },
      { role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
      { role: 'tool', tool_call_id: 'a', content: [{ type: 'text', text: 'r', cache_control: { type: 'ephemeral' } }] },
    ],
    tools: [{ type: 'function', function: { name: 'f' }, cache_control: { type: 'ephemeral' } }],
  };
  const body = (id: string) => JSON.parse(get(id).buildChatRequest(req, { ...target, upstreamModel: 'x' }, { stream: false, unsupportedParams: 'reject' }).body);

  it('strips them for strict vendors (they answer 400 to unknown fields) without touching the request', () => {
    const b = body('mistral');
    expect(JSON.stringify(b)).not.toContain('cache_control');
    expect(b.messages[1].content).toEqual([{ type: 'text', text: 'hi' }]);
    expect(b.tools).toEqual([{ type: 'function', function: { name: 'f' } }]);
    expect(JSON.stringify(req)).toContain('cache_control');
  });

  it('keeps them for OpenRouter, which forwards them to caching providers', () => {
    expect(body('openrouter').messages[1].content[0].cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(body('openrouter').tools[0].cache_control).toEqual({ type: 'ephemeral' });
  });
});
