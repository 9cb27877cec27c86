import type { ChatRequest } from '../../openai.types';
import type { ProviderAdapter } from '../../provider';
import { createOpenAiCompatibleAdapter } from './openai-compatible.adapter';
import type { OpenAiCompatibleSpec } from './openai-compatible.config';

/**
 * The OpenAI-compatible vendors, as data. Unsupported lists come from each vendor's API reference
 * (links inline); a parameter only some models lack is left to the vendor's own 400.
 */

/** OpenAI-only parameters no compatible vendor implements. */
const OPENAI_ONLY: ReadonlyArray<keyof ChatRequest> = ['audio', 'modalities', 'prediction'];
/** Hints that change nothing in the output; vendors that lack them get them dropped. */
const HINTS: ReadonlyArray<keyof ChatRequest> = ['store', 'metadata', 'service_tier', 'prompt_cache_key', 'prompt_cache_retention', 'safety_identifier'];

export const OPENAI_COMPATIBLE_SPECS: readonly OpenAiCompatibleSpec[] = [
  {
    id: 'openai',
    envPrefix: 'OPENAI',
    defaultBaseUrl: 'https://api.openai.com/v1',
    // `max_tokens` is deprecated and refused by o-series models; `max_completion_tokens` works for all.
    maxTokensField: 'max_completion_tokens',
  },
  {
    // https://api-docs.deepseek.com/api/create-chat-completion
    id: 'deepseek',
    envPrefix: 'DEEPSEEK',
    defaultBaseUrl: 'https://api.deepseek.com',
    unsupported: [...OPENAI_ONLY, 'n', 'logit_bias', 'seed', 'web_search_options', 'verbosity', 'reasoning_effort'],
    ignored: [...HINTS],
    reasoningField: 'reasoning_content',
  },
  {
    // https://docs.mistral.ai/api/#tag/chat ; unknown fields are a 422 ("Extra inputs are not
    // permitted"), including stream_options: usage is sent on the last chunk unasked (avante.nvim#2347).
    id: 'mistral',
    envPrefix: 'MISTRAL',
    defaultBaseUrl: 'https://api.mistral.ai/v1',
    unsupported: [...OPENAI_ONLY, 'logit_bias', 'logprobs', 'top_logprobs', 'web_search_options', 'verbosity', 'reasoning_effort'],
    ignored: [...HINTS, 'user'],
    renames: { seed: 'random_seed' },
    streamUsage: 'always',
  },
  {
    // https://console.groq.com/docs/openai : logprobs, logit_bias, top_logprobs are a 400; n must be 1.
    // Usage also comes in `x_groq.usage` on the last chunk.
    id: 'groq',
    envPrefix: 'GROQ',
    defaultBaseUrl: 'https://api.groq.com/openai/v1',
    unsupported: [...OPENAI_ONLY, 'n', 'logit_bias', 'logprobs', 'top_logprobs', 'web_search_options'],
    ignored: [...HINTS],
    vendorUsageField: 'x_groq',
  },
  {
    // https://docs.together.ai/reference/chat-completions-1 : `logprobs` is an integer there.
    id: 'together',
    envPrefix: 'TOGETHER',
    defaultBaseUrl: 'https://api.together.xyz/v1',
    unsupported: [...OPENAI_ONLY, 'logprobs', 'top_logprobs', 'web_search_options'],
    ignored: [...HINTS],
  },
  {
    // https://docs.fireworks.ai/api-reference/post-chatcompletions
    id: 'fireworks',
    envPrefix: 'FIREWORKS',
    defaultBaseUrl: 'https://api.fireworks.ai/inference/v1',
    unsupported: [...OPENAI_ONLY, 'web_search_options'],
    ignored: [...HINTS],
  },
  {
    // https://docs.x.ai/docs/key-information/consumption-and-rate-limits : "reasoning token
    // consumption will be counted separately from completion_tokens" (vercel/ai#12425).
    id: 'xai',
    envPrefix: 'XAI',
    defaultBaseUrl: 'https://api.x.ai/v1',
    unsupported: [...OPENAI_ONLY, 'logit_bias', 'web_search_options'],
    ignored: [...HINTS],
    reasoningOutsideCompletion: true,
    reasoningField: 'reasoning_content',
  },
  {
    // DashScope compatible mode: https://www.alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope
    id: 'qwen',
    envPrefix: 'DASHSCOPE',
    defaultBaseUrl: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    unsupported: [...OPENAI_ONLY, 'logit_bias', 'web_search_options'],
    ignored: [...HINTS],
    reasoningField: 'reasoning_content',
  },
  {
    // https://docs.perplexity.ai/api-reference/chat-completions-post : no tools, usage on every chunk,
    // citations and search results at the top level.
    id: 'perplexity',
    envPrefix: 'PERPLEXITY',
    defaultBaseUrl: 'https://api.perplexity.ai',
    unsupported: [...OPENAI_ONLY, 'n', 'logit_bias', 'logprobs', 'top_logprobs', 'seed', 'tools', 'tool_choice', 'parallel_tool_calls'],
    ignored: [...HINTS, 'user'],
    streamUsage: 'always',
    passthroughFields: ['citations', 'search_results', 'images', 'related_questions'],
  },
  {
    // https://platform.moonshot.ai/docs/api/chat : the final stream chunk carries usage inside choices[0].
    id: 'moonshot',
    envPrefix: 'MOONSHOT',
    defaultBaseUrl: 'https://api.moonshot.ai/v1',
    unsupported: [...OPENAI_ONLY, 'logit_bias', 'logprobs', 'top_logprobs', 'web_search_options'],
    ignored: [...HINTS],
    streamUsage: 'always',
    reasoningField: 'reasoning_content',
  },
  {
    // https://openrouter.ai/docs/api-reference/overview : accepts and returns reasoning_details.
    id: 'openrouter',
    envPrefix: 'OPENROUTER',
    defaultBaseUrl: 'https://openrouter.ai/api/v1',
    acceptsReasoningDetails: true,
  },
];

export const OPENAI_COMPATIBLE_ADAPTERS: readonly ProviderAdapter[] = OPENAI_COMPATIBLE_SPECS.map(createOpenAiCompatibleAdapter);
