import type { ProviderAdapter } from '../../provider';
import { createOpenAiCompatibleAdapter, HINT_PARAMS, NON_OPENAI_SAMPLING, type OpenAiCompatibleSpec } from '../openai-compatible';

/**
 * Azure OpenAI: the OpenAI wire format on a per-resource host, with the deployment in the path,
 * the API version in the query and the key in an `api-key` header.
 * https://learn.microsoft.com/azure/ai-services/openai/reference
 *   POST <base>/openai/deployments/<deployment>/chat/completions?api-version=<v>
 * The deployment is the catalog's upstream model id. There is no global endpoint, so
 * `AZURE_BASE_URL` (https://<resource>.openai.azure.com) must be configured.
 */

/**
 * The data-plane version sent by default: the first that serves the reasoning deployments of the
 * catalog (o3, o4-mini, gpt-5 and later: `reasoning_effort`, the `developer` role). The GA
 * 2024-10-21 refuses them ("enabled only for api versions 2024-12-01-preview and later",
 * https://learn.microsoft.com/azure/ai-foundry/openai/how-to/reasoning).
 */
export const AZURE_DEFAULT_API_VERSION = '2025-04-01-preview';

export interface AzureOpenAiOptions {
  /** `api-version` query value (the gateway's `AZURE_API_VERSION`); default {@link AZURE_DEFAULT_API_VERSION}. */
  apiVersion?: string;
  /** Resource endpoint used when no base URL is configured; default none. */
  defaultBaseUrl?: string;
}

export function azureOpenAiSpec(opts: AzureOpenAiOptions = {}): OpenAiCompatibleSpec {
  const apiVersion = opts.apiVersion ?? AZURE_DEFAULT_API_VERSION;
  return {
    id: 'azure',
    envPrefix: 'AZURE',
    defaultBaseUrl: opts.defaultBaseUrl ?? '',
    chatPath: '/openai/deployments/{model}/chat/completions',
    query: { 'api-version': apiVersion },
    auth: { kind: 'header', name: 'api-key' },
    // o-series deployments refuse `max_tokens`, every deployment accepts `max_completion_tokens`.
    maxTokensField: 'max_completion_tokens',
    // Azure validates bodies against the version's spec: OpenAI-only newcomers are unknown fields.
    unsupported: ['web_search_options', 'prediction', ...NON_OPENAI_SAMPLING],
    ignored: [...HINT_PARAMS],
    // OpenAI's models and limit: "Up to 4 sequences".
    maxStopSequences: 4,
    embeddings: { path: '/openai/deployments/{model}/embeddings', base64: true },
  };
}

export function createAzureOpenAiAdapter(opts: AzureOpenAiOptions = {}): ProviderAdapter {
  return createOpenAiCompatibleAdapter(azureOpenAiSpec(opts));
}

export const azureOpenAiAdapter: ProviderAdapter = createAzureOpenAiAdapter();
