import type { ReasoningConfig, RequestProviderPreferences } from './router-request.types';

/**
 * Canonical OpenAI Chat Completions wire types: what clients send to the gateway and what the
 * gateway returns. Every provider adapter translates from and to these shapes.
 * Source: `openai` 7.57 `resources/chat/completions/completions.d.ts` and `resources/completions.d.ts`.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Anthropic-style prompt-caching hint some clients put on parts (OpenRouter convention). */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

export interface TextPart {
  type: 'text';
  text: string;
  cache_control?: CacheControl;
}

export interface ImageUrlPart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' | 'original' };
}

export interface InputAudioPart {
  type: 'input_audio';
  input_audio: { data: string; format: 'wav' | 'mp3' };
}

export interface FilePart {
  type: 'file';
  file: { file_data?: string; file_id?: string; filename?: string };
}

export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}

export type UserContentPart = TextPart | ImageUrlPart | InputAudioPart | FilePart;
export type AssistantContentPart = TextPart | RefusalPart;

export interface FunctionCall {
  name: string;
  /** A JSON text, possibly invalid (models produce it). */
  arguments: string;
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: FunctionCall;
}

/**
 * Opaque reasoning carried across turns (OpenRouter's `reasoning_details`), the gateway's carrier
 * for Anthropic thinking signatures and redacted thinking. https://openrouter.ai/docs/use-cases/reasoning-tokens
 */
export type ReasoningDetail =
  | { type: 'reasoning.text'; text?: string; signature?: string | null; format?: string; index?: number; id?: string | null }
  | { type: 'reasoning.encrypted'; data: string; format?: string; index?: number; id?: string | null }
  | { type: 'reasoning.summary'; summary: string; format?: string; index?: number; id?: string | null };

export interface SystemMessage {
  role: 'system';
  content: string | TextPart[];
  name?: string;
}

export interface DeveloperMessage {
  role: 'developer';
  content: string | TextPart[];
  name?: string;
}

export interface UserMessage {
  role: 'user';
  content: string | UserContentPart[];
  name?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  content?: string | AssistantContentPart[] | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  name?: string;
  /** Deprecated single-call form, still sent by old clients. */
  function_call?: FunctionCall | null;
  reasoning?: string | null;
  reasoning_details?: ReasoningDetail[];
}

export interface ToolMessage {
  role: 'tool';
  content: string | TextPart[];
  tool_call_id: string;
  /**
   * Gateway extension, not OpenAI's: the tool failed (Anthropic `tool_result.is_error`, set by the
   * `/v1/messages` mapping). Each adapter says it its provider's way: Anthropic's flag, Gemini's
   * `{"error": ...}` response, an `Error: ` prefix for OpenAI-format vendors, which have no field.
   */
  is_error?: boolean;
}

export interface FunctionMessage {
  role: 'function';
  content: string | null;
  name: string;
}

export type ChatMessage = SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage;
export type ChatRole = ChatMessage['role'];

export interface FunctionDefinition {
  name: string;
  description?: string;
  parameters?: JsonObject;
  strict?: boolean | null;
}

export interface FunctionTool {
  type: 'function';
  function: FunctionDefinition;
  cache_control?: CacheControl;
}

/** SDK 7.x free-form tools; no other provider has them. */
export interface CustomTool {
  type: 'custom';
  custom: { name: string; description?: string; format?: JsonObject };
}

export type Tool = FunctionTool | CustomTool;

export interface NamedToolChoice {
  type: 'function';
  function: { name: string };
}

export interface AllowedToolsChoice {
  type: 'allowed_tools';
  allowed_tools: { mode: 'auto' | 'required'; tools: Array<{ type: 'function'; function: { name: string } } | JsonObject> };
}

export type ToolChoice = 'none' | 'auto' | 'required' | NamedToolChoice | AllowedToolsChoice;

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: JsonObject; strict?: boolean | null; description?: string } };

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const satisfies readonly ReasoningEffort[];

export interface StreamOptions {
  include_usage?: boolean;
  include_obfuscation?: boolean;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  /** Not OpenAI's: Anthropic's `top_k` and Gemini's `topK` (`/v1/messages` sets it); vendors without it declare it unsupported. */
  top_k?: number | null;
  /** Not OpenAI's: sampling parameters of open-model hosts (OpenRouter's names); vendors without them declare them unsupported. */
  min_p?: number | null;
  top_a?: number | null;
  repetition_penalty?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  n?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: StreamOptions | null;
  tools?: Tool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  reasoning_effort?: ReasoningEffort | null;
  /** OpenRouter's reasoning object: mapped to `reasoning_effort` before routing, sent as is only to vendors that take it. */
  reasoning?: ReasoningConfig;
  user?: string;
  safety_identifier?: string | null;
  prompt_cache_key?: string | null;
  prompt_cache_retention?: 'in_memory' | '24h' | null;
  metadata?: Record<string, string> | null;
  store?: boolean | null;
  service_tier?: 'auto' | 'default' | 'flex' | 'scale' | 'priority' | 'fast' | null;
  modalities?: Array<'text' | 'audio'> | null;
  audio?: JsonObject | null;
  prediction?: JsonObject | null;
  verbosity?: 'low' | 'medium' | 'high' | null;
  web_search_options?: JsonObject;
  /** Deprecated function-calling fields, still accepted from old clients. */
  functions?: FunctionDefinition[];
  function_call?: 'none' | 'auto' | { name: string };
  // Gateway extras (OpenRouter-style). Adapters must never forward them.
  /** Fallback model list tried in order by the gateway. */
  models?: string[];
  /** Routing preferences. */
  provider?: RequestProviderPreferences;
  /** OpenRouter's usage accounting switch; the gateway returns usage and cost on every answer anyway. */
  usage?: { include?: boolean };
  /** OpenRouter's prompt transforms (`middle-out`): accepted, not applied by the gateway. */
  transforms?: string[];
  /** OpenRouter's legacy `"fallback"` routing, what `models` does here. */
  route?: string;
  /** OpenRouter's plugins (web search, file parsing): accepted, not applied by the gateway. */
  plugins?: JsonObject[];
  /**
   * Set by the `/v1/messages` mapping, never by clients: the client's name for each canonical
   * field it sent under another one (`stop` came as `stop_sequences`, `reasoning_effort` as
   * `thinking`), so that a refusal names what the client sent (see `clientParam`).
   */
  client_names?: Partial<Record<keyof ChatRequest, string>>;
}

/** Request fields that belong to the gateway, stripped by every adapter. */
export const GATEWAY_ONLY_FIELDS = ['models', 'provider', 'client_names'] as const satisfies ReadonlyArray<keyof ChatRequest>;

/**
 * OpenRouter's request extensions: the gateway's own, or mapped to canonical fields before any
 * adapter runs (`reasoning`). OpenAI-family providers answer an unknown field with a 400 that ends
 * the attempts, so no adapter sends them, except to a vendor that speaks the dialect and takes
 * them as they are (`OpenAiCompatibleSpec.routerFields`).
 */
export const ROUTER_FIELDS = ['usage', 'transforms', 'route', 'plugins', 'reasoning'] as const satisfies ReadonlyArray<keyof ChatRequest>;
export type RouterField = (typeof ROUTER_FIELDS)[number];

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call' | 'error';

export interface PromptTokensDetails {
  cached_tokens?: number;
  cache_write_tokens?: number;
  audio_tokens?: number;
  image_tokens?: number;
  text_tokens?: number;
}

export interface CompletionTokensDetails {
  reasoning_tokens?: number;
  audio_tokens?: number;
  accepted_prediction_tokens?: number;
  rejected_prediction_tokens?: number;
  text_tokens?: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: PromptTokensDetails | null;
  completion_tokens_details?: CompletionTokensDetails | null;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs?: Array<{ token: string; logprob: number; bytes: number[] | null }>;
}

export interface ChoiceLogprobs {
  content: TokenLogprob[] | null;
  refusal?: TokenLogprob[] | null;
}

export interface ResponseMessage {
  role: 'assistant';
  content: string | null;
  refusal?: string | null;
  tool_calls?: ToolCall[];
  reasoning?: string | null;
  reasoning_details?: ReasoningDetail[];
  annotations?: JsonValue[];
}

export interface ChatChoice {
  index: number;
  message: ResponseMessage;
  finish_reason: FinishReason;
  logprobs?: ChoiceLogprobs | null;
  /** Gateway extension: the stop sequence that ended the answer, when the provider says (Anthropic). */
  stop_sequence?: string;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: Usage;
  system_fingerprint?: string | null;
  service_tier?: string | null;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  refusal?: string | null;
  tool_calls?: ToolCallDelta[];
  reasoning?: string | null;
  reasoning_details?: ReasoningDetail[];
}

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  finish_reason: FinishReason | null;
  logprobs?: ChoiceLogprobs | null;
  /** On the finish chunk: the stop sequence that ended the answer, when the provider says (Anthropic). */
  stop_sequence?: string;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
  system_fingerprint?: string | null;
  service_tier?: string | null;
}

/** OpenAI error body, also the shape of an in-stream error event. */
export interface OpenAiErrorPayload {
  error: { message: string; type?: string; param?: string | null; code?: string | number | null };
}

// ---------------------------------------------------------------------------------------------
// Embeddings (used by the fakes and the embeddings route)
// ---------------------------------------------------------------------------------------------

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  /** Floats, or base64 of little-endian float32 when `encoding_format` is `base64`. */
  embedding: number[] | string;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}
