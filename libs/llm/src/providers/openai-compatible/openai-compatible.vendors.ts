import type { ChatRequest } from '../../openai.types';
import type { ProviderAdapter } from '../../provider';
import { createOpenAiCompatibleAdapter } from './openai-compatible.adapter';
import type { OpenAiCompatibleSpec } from './openai-compatible.config';

/**
 * The OpenAI-compatible vendors, as data. Unsupported lists come from each vendor's API reference
 * (links inline); a parameter only some models lack is left to the vendor's own 400. A vendor
 * without `embeddings` has no embeddings endpoint (DeepSeek, Groq, xAI, Perplexity, Moonshot).
 */

/** OpenAI-only parameters no compatible vendor implements. */
export const OPENAI_ONLY_PARAMS: ReadonlyArray<keyof ChatRequest> = ['audio', 'modalities', 'prediction'];
/** Hints that change nothing in the output; vendors that lack them get them dropped. */
export const HINT_PARAMS: ReadonlyArray<keyof ChatRequest> = ['store', 'metadata', 'service_tier', 'prompt_cache_key', 'prompt_cache_retention', 'safety_identifier'];
/**
 * Sampling parameters OpenAI does not have: Anthropic's and Gemini's `top_k` (from `/v1/messages`)
 * and the open-model ones OpenRouter clients send (`min_p`, `top_a`, `repetition_penalty`). A vendor
 * takes those its API reference lists (OpenRouter all; Together, Fireworks, Qwen, Perplexity some)
 * as they come, and declares the rest unsupported.
 */
export const NON_OPENAI_SAMPLING: ReadonlyArray<keyof ChatRequest> = ['top_k', 'min_p', 'top_a', 'repetition_penalty'];

/** The `NON_OPENAI_SAMPLING` parameters a vendor does not take, given those it does. */
const samplingWithout = (...taken: ReadonlyArray<keyof ChatRequest>) => NON_OPENAI_SAMPLING.filter((p) => !taken.includes(p));

export const OPENAI_COMPATIBLE_SPECS: readonly OpenAiCompatibleSpec[] = [
  {
    id: 'openai',
    envPrefix: 'OPENAI',
    defaultBaseUrl: 'https://api.openai.com/v1',
    // `max_tokens` is deprecated and refused by o-series models; `max_completion_tokens` works for all.
    maxTokensField: 'max_completion_tokens',
    unsupported: [...NON_OPENAI_SAMPLING],
    // "Up to 4 sequences" (https://platform.openai.com/docs/api-reference/chat/create#chat-create-stop).
    maxStopSequences: 4,
    embeddings: { base64: true },
  },
  {
    // https://api-docs.deepseek.com/api/create-chat-completion
    id: 'deepseek',
    envPrefix: 'DEEPSEEK',
    defaultBaseUrl: 'https://api.deepseek.com',
    unsupported: [...OPENAI_ONLY_PARAMS, ...NON_OPENAI_SAMPLING, 'n', 'logit_bias', 'seed', 'web_search_options', 'verbosity'],
    ignored: [...HINT_PARAMS],
    // Roles system, user, assistant, tool: `developer` is a 400 ("unknown variant `developer`").
    developerRole: false,
    // "Up to 16 sequences".
    maxStopSequences: 16,
    // https://api-docs.deepseek.com/guides/thinking_mode : thinking is on by default (effort high);
    // `reasoning_effort` low/high/max (other values mapped), `thinking: {type: "disabled"}` turns it off.
    thinkingToggle: true,
    reasoningField: 'reasoning_content',
    reasoningInToolLoop: true,
  },
  {
    // https://docs.mistral.ai/api/#tag/chat ; unknown fields are a 422 ("Extra inputs are not
    // permitted"), including stream_options: usage is sent on the last chunk unasked (avante.nvim#2347).
    id: 'mistral',
    envPrefix: 'MISTRAL',
    defaultBaseUrl: 'https://api.mistral.ai/v1',
    // `reasoning_effort` (none .. high) on its reasoning models, whose answers come as content chunks
    // (`thinking`, then `text`): https://docs.mistral.ai/capabilities/reasoning/adjustable
    unsupported: [...OPENAI_ONLY_PARAMS, ...NON_OPENAI_SAMPLING, 'logit_bias', 'logprobs', 'top_logprobs', 'web_search_options', 'verbosity'],
    ignored: [...HINT_PARAMS, 'user'],
    renames: { seed: 'random_seed' },
    // Messages are system, user, assistant or tool (the API reference above), validated strictly.
    developerRole: false,
    streamUsage: 'always',
    // https://docs.mistral.ai/api/#tag/embeddings : `output_dimension`, strict body validation.
    embeddings: { renames: { dimensions: 'output_dimension' }, ignored: ['user'] },
  },
  {
    // https://console.groq.com/docs/openai : logprobs, logit_bias, top_logprobs are a 400; n must be 1.
    // Usage also comes in `x_groq.usage` on the last chunk.
    id: 'groq',
    envPrefix: 'GROQ',
    defaultBaseUrl: 'https://api.groq.com/openai/v1',
    unsupported: [...OPENAI_ONLY_PARAMS, ...NON_OPENAI_SAMPLING, 'n', 'logit_bias', 'logprobs', 'top_logprobs', 'web_search_options'],
    ignored: [...HINT_PARAMS],
    vendorUsageField: 'x_groq',
    messageNames: false,
    // https://console.groq.com/docs/api-reference#chat-create : system, user, assistant, tool and
    // function messages (ChatCompletionMessageParam of the SDK generated from that spec).
    developerRole: false,
  },
  {
    // https://docs.together.ai/reference/chat-completions-1 : `logprobs` is an integer there.
    id: 'together',
    envPrefix: 'TOGETHER',
    defaultBaseUrl: 'https://api.together.xyz/v1',
    // `top_k`, `min_p` and `repetition_penalty` are Together's; messages are system, user,
    // assistant, tool or function.
    unsupported: [...OPENAI_ONLY_PARAMS, ...samplingWithout('top_k', 'min_p', 'repetition_penalty'), 'logprobs', 'top_logprobs', 'web_search_options'],
    ignored: [...HINT_PARAMS],
    developerRole: false,
    aliases: ['together-ai'],
    // https://docs.together.ai/reference/embeddings-2 : model and input only.
    embeddings: { unsupported: ['dimensions'], ignored: ['user'] },
  },
  {
    // https://docs.fireworks.ai/api-reference/post-chatcompletions
    id: 'fireworks',
    envPrefix: 'FIREWORKS',
    defaultBaseUrl: 'https://api.fireworks.ai/inference/v1',
    // `top_k` and `repetition_penalty` are listed; https://fireworksai.readme.io/reference/chatcompletions :
    // "The role of the messages author. One of system, user, or assistant" (and tool).
    unsupported: [...OPENAI_ONLY_PARAMS, ...samplingWithout('top_k', 'repetition_penalty'), 'web_search_options'],
    ignored: [...HINT_PARAMS],
    developerRole: false,
    aliases: ['fireworks-ai'],
    // Reasoning models answer with `reasoning_content` (https://docs.fireworks.ai/guides/reasoning).
    reasoningField: 'reasoning_content',
    // https://docs.fireworks.ai/api-reference/creates-an-embedding-vector-representing-the-input-text
    embeddings: { ignored: ['user'] },
  },
  {
    // https://docs.x.ai/docs/key-information/consumption-and-rate-limits : "reasoning token
    // consumption will be counted separately from completion_tokens" (vercel/ai#12425).
    id: 'xai',
    envPrefix: 'XAI',
    defaultBaseUrl: 'https://api.x.ai/v1',
    unsupported: [...OPENAI_ONLY_PARAMS, ...NON_OPENAI_SAMPLING, 'logit_bias', 'web_search_options'],
    ignored: [...HINT_PARAMS],
    // https://docs.x.ai/docs/api-reference#chat-completions : a Message is system, user, assistant,
    // tool or function.
    developerRole: false,
    aliases: ['x-ai'],
    reasoningOutsideCompletion: true,
    reasoningField: 'reasoning_content',
  },
  {
    // DashScope compatible mode: https://www.alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope
    id: 'qwen',
    envPrefix: 'DASHSCOPE',
    defaultBaseUrl: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1',
    // `top_k` and `repetition_penalty` are DashScope's; messages are system, user, assistant or tool
    // (https://docs.qwencloud.com/api-reference/chat/openai-chat).
    unsupported: [...OPENAI_ONLY_PARAMS, ...samplingWithout('top_k', 'repetition_penalty'), 'logit_bias', 'web_search_options'],
    ignored: [...HINT_PARAMS],
    developerRole: false,
    // OpenRouter's name for the provider serving Qwen through DashScope.
    aliases: ['alibaba'],
    reasoningField: 'reasoning_content',
    // text-embedding-v3/v4 in compatible mode: `dimensions` yes, `encoding_format` float only.
    embeddings: { ignored: ['user'] },
  },
  {
    // https://docs.perplexity.ai/api-reference/chat-completions-post : no tools, usage on every chunk,
    // citations and search results at the top level.
    id: 'perplexity',
    envPrefix: 'PERPLEXITY',
    defaultBaseUrl: 'https://api.perplexity.ai',
    // `top_k` is listed; ChatMessageRole is system, user, assistant or tool.
    unsupported: [...OPENAI_ONLY_PARAMS, ...samplingWithout('top_k'), 'n', 'logit_bias', 'logprobs', 'top_logprobs', 'seed', 'tools', 'tool_choice', 'parallel_tool_calls'],
    ignored: [...HINT_PARAMS, 'user'],
    developerRole: false,
    streamUsage: 'always',
    passthroughFields: ['citations', 'search_results', 'images', 'related_questions'],
  },
  {
    // https://platform.moonshot.ai/docs/api/chat : the final stream chunk carries usage inside choices[0].
    id: 'moonshot',
    envPrefix: 'MOONSHOT',
    defaultBaseUrl: 'https://api.moonshot.ai/v1',
    unsupported: [...OPENAI_ONLY_PARAMS, ...NON_OPENAI_SAMPLING, 'logit_bias', 'logprobs', 'top_logprobs', 'web_search_options'],
    ignored: [...HINT_PARAMS],
    // "role supports system, user, or assistant" (and tool, for tool results).
    developerRole: false,
    aliases: ['moonshotai', 'moonshot-ai'],
    streamUsage: 'always',
    reasoningField: 'reasoning_content',
    reasoningInToolLoop: true,
  },
  {
    // https://openrouter.ai/docs/api-reference/overview : accepts and returns reasoning_details, and
    // forwards cache_control to the providers that cache on request (Anthropic, Gemini).
    id: 'openrouter',
    envPrefix: 'OPENROUTER',
    defaultBaseUrl: 'https://openrouter.ai/api/v1',
    acceptsReasoningDetails: true,
    acceptsCacheControl: true,
    // Its own dialect: the reasoning object and prompt transforms as the client sent them. Not
    // `plugins` (web search and PDF parsing are billed by OpenRouter per use, a charge the gateway
    // cannot price), `usage` (always reported) or `route` (the gateway runs the fallbacks).
    routerFields: ['reasoning', 'transforms'],
    embeddings: {},
  },
];

export const OPENAI_COMPATIBLE_ADAPTERS: readonly ProviderAdapter[] = OPENAI_COMPATIBLE_SPECS.map(createOpenAiCompatibleAdapter);
