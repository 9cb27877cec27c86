import { DomainError, ErrorCode } from '@gw/core';
import type { ChatRequest } from '../../openai.types';
import type { BuildOptions } from '../../provider';
import { AZURE_DEFAULT_API_VERSION, azureOpenAiAdapter, createAzureOpenAiAdapter } from './azure.adapter';

const req: ChatRequest = { model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20, store: true, user: 'u' };
const target = { baseUrl: 'https://my-res.openai.azure.com/', apiKey: 'azure-key', upstreamModel: 'gpt4o prod' };
const opts: BuildOptions = { stream: true, unsupportedParams: 'reject' };

describe('Azure OpenAI adapter', () => {
  it('puts the deployment in the path, api-version in the query and the key in api-key', () => {
    const up = azureOpenAiAdapter.buildChatRequest(req, target, opts);
    expect(up.url).toBe(`https://my-res.openai.azure.com/openai/deployments/gpt4o%20prod/chat/completions?api-version=${AZURE_DEFAULT_API_VERSION}`);
    expect(up.headers).toEqual({ 'content-type': 'application/json', accept: 'text/event-stream', 'api-key': 'azure-key' });
    expect(up.headers).not.toHaveProperty('authorization');
    const body = JSON.parse(up.body);
    expect(body).toMatchObject({ model: 'gpt4o prod', max_completion_tokens: 20, stream: true, stream_options: { include_usage: true } });
    expect(body).not.toHaveProperty('store');
    expect(body).not.toHaveProperty('max_tokens');
  });

  it('takes the api-version (AZURE_API_VERSION) and a default resource from its options', () => {
    const a = createAzureOpenAiAdapter({ apiVersion: '2025-04-01-preview', defaultBaseUrl: 'https://other.openai.azure.com' });
    expect(a.id).toBe('azure');
    expect(a.envPrefix).toBe('AZURE');
    expect(a.wireFormat).toBe('openai');
    expect(a.buildChatRequest(req, { ...target, baseUrl: '' }, opts).url).toBe(
      'https://other.openai.azure.com/openai/deployments/gpt4o%20prod/chat/completions?api-version=2025-04-01-preview',
    );
  });

  it('refuses to build a request without a resource endpoint, naming the variable', () => {
    let err: unknown;
    try {
      azureOpenAiAdapter.buildChatRequest(req, { ...target, baseUrl: '' }, opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: ErrorCode.UpstreamError, message: expect.stringContaining('AZURE_BASE_URL'), details: { retryable: true } });
  });

  it('declares web_search_options unsupported', () => {
    expect(() => azureOpenAiAdapter.buildChatRequest({ ...req, web_search_options: {} }, target, opts)).toThrow(/web_search_options/);
  });

  it('has embeddings on the deployment path, base64 passed through', () => {
    const build = azureOpenAiAdapter.buildEmbeddingsRequest;
    if (build === undefined) throw new Error('azure has embeddings');
    const up = build.call(azureOpenAiAdapter, { model: 'azure/emb', input: ['a', 'b'], encoding_format: 'base64', dimensions: 64 }, { ...target, upstreamModel: 'emb-3' }, { unsupportedParams: 'reject' });
    expect(up.url).toBe(`https://my-res.openai.azure.com/openai/deployments/emb-3/embeddings?api-version=${AZURE_DEFAULT_API_VERSION}`);
    expect(up.headers['api-key']).toBe('azure-key');
    expect(JSON.parse(up.body)).toEqual({ model: 'emb-3', input: ['a', 'b'], encoding_format: 'base64', dimensions: 64 });
  });
});
