import type { ChatRequest, EmbeddingsRequest, RouterField } from '../../openai.types';

/** How the API key travels. */
export type AuthStyle = { kind: 'bearer' } | { kind: 'header'; name: string };

/**
 * Everything that distinguishes one OpenAI-compatible vendor from another, as data. The factory
 * in openai-compatible.adapter.ts has no vendor branches: a new vendor is one more object.
 */
export interface OpenAiCompatibleSpec {
  /** Provider id: the first segment of public model names. */
  id: string;
  /** `<PREFIX>_API_KEY` / `<PREFIX>_BASE_URL`. */
  envPrefix: string;
  defaultBaseUrl: string;
  /**
   * Appended to the base URL; default `/chat/completions`. `{model}` is replaced by the URL-encoded
   * upstream model id (Azure puts the deployment there).
   */
  chatPath?: string;
  /** Constant query parameters on every URL (Azure's `api-version`). */
  query?: Readonly<Record<string, string>>;
  /** Default bearer. */
  auth?: AuthStyle;
  /** Constant headers the vendor wants (attribution, API version). */
  extraHeaders?: Readonly<Record<string, string>>;
  /** OpenAI parameters the vendor cannot honour: rejected (400) or dropped per tenant policy. */
  unsupported?: ReadonlyArray<keyof ChatRequest>;
  /**
   * Hints with no effect on the output (`user`, `store`, cache keys) that the vendor lacks or
   * rejects: always dropped, never a 400.
   */
  ignored?: ReadonlyArray<keyof ChatRequest>;
  /** Parameters the vendor spells differently, e.g. `{ seed: 'random_seed' }`. */
  renames?: Readonly<Partial<Record<keyof ChatRequest, string>>>;
  /** The most `stop` sequences the vendor takes (OpenAI: 4); more are refused or cut per tenant policy. Default: no known limit. */
  maxStopSequences?: number;
  /** Where the output cap goes; `max_tokens` and `max_completion_tokens` both collapse into it. Default `max_tokens`. */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /**
   * `stream_options`: usage only comes when `stream_options.include_usage` is sent (OpenAI's rule).
   * `always`: the vendor sends usage unasked and rejects `stream_options`.
   */
  streamUsage?: 'stream_options' | 'always';
  /** A vendor object on chunks/responses holding a `usage` (read as a fallback, then stripped). */
  vendorUsageField?: string;
  /** The vendor reports reasoning tokens beside `completion_tokens`, not inside it. */
  reasoningOutsideCompletion?: boolean;
  /** The vendor's name for reasoning text (`reasoning_content`), renamed to the canonical `reasoning`. */
  reasoningField?: string;
  /**
   * The vendor wants its reasoning text back (as `reasoningField`) on the assistant messages of
   * the current turn's tool loop, the ones after the last user message that call tools. DeepSeek
   * and Moonshot thinking models answer 400 ("Missing `reasoning_content` field") without it.
   */
  reasoningInToolLoop?: boolean;
  /**
   * The vendor's models think unless told not to, with `thinking: {type: "disabled"}` (DeepSeek):
   * `reasoning_effort: "none"` is sent that way, not dropped as a default it is not there.
   */
  thinkingToggle?: boolean;
  /** Vendor top-level response fields worth keeping (citations); everything else unknown is dropped. */
  passthroughFields?: readonly string[];
  /** The vendor accepts `reasoning` / `reasoning_details` on assistant messages; otherwise they are stripped. */
  acceptsReasoningDetails?: boolean;
  /**
   * The vendor accepts Anthropic-style `cache_control` hints on content parts and tools; otherwise
   * they are stripped (strict vendors answer 400 "Extra inputs are not permitted", QuantumNous/new-api#5982).
   */
  acceptsCacheControl?: boolean;
  /** The vendor's embeddings endpoint; absent when it has none (the adapter then has no embeddings methods). */
  embeddings?: EmbeddingsSpec;
  /**
   * OpenRouter request extensions (`ROUTER_FIELDS`) the vendor takes as the client sent them; the
   * others never reach it. Default none.
   */
  routerFields?: readonly RouterField[];
  /**
   * The vendor takes the `developer` role (default). Otherwise such messages go as `system`: the
   * same instructions under the role every vendor knows, where a vendor without it answers 400.
   */
  developerRole?: boolean;
  /**
   * The vendor takes a message's `name` (default true). Groq answers 400 to it ("messages[].name",
   * https://console.groq.com/docs/openai): a label with no effect on the answer, so it is left out.
   */
  messageNames?: boolean;
  /** Other names clients give this provider in routing preferences (OpenRouter's slugs), matched case-insensitively. */
  aliases?: readonly string[];
}

export interface EmbeddingsSpec {
  /** Appended to the base URL, `{model}` replaced like in `chatPath`. Default `/embeddings`. */
  path?: string;
  /** The vendor honours `encoding_format: "base64"`; otherwise floats are asked for and the gateway encodes. */
  base64?: boolean;
  /** Parameters the vendor cannot honour: rejected (400) or dropped per tenant policy. */
  unsupported?: ReadonlyArray<keyof EmbeddingsRequest>;
  /** Hints the vendor rejects, always dropped. */
  ignored?: ReadonlyArray<keyof EmbeddingsRequest>;
  /** Parameters the vendor spells differently, e.g. `{ dimensions: 'output_dimension' }`. */
  renames?: Readonly<Partial<Record<keyof EmbeddingsRequest, string>>>;
}

type OptionalFields = 'vendorUsageField' | 'reasoningField' | 'embeddings' | 'maxStopSequences';

export type ResolvedSpec = Required<Omit<OpenAiCompatibleSpec, OptionalFields>> & Pick<OpenAiCompatibleSpec, OptionalFields>;

export function resolveSpec(spec: OpenAiCompatibleSpec): ResolvedSpec {
  return {
    chatPath: '/chat/completions',
    query: {},
    auth: { kind: 'bearer' },
    extraHeaders: {},
    unsupported: [],
    ignored: [],
    renames: {},
    maxTokensField: 'max_tokens',
    streamUsage: 'stream_options',
    reasoningOutsideCompletion: false,
    reasoningInToolLoop: false,
    thinkingToggle: false,
    passthroughFields: [],
    acceptsReasoningDetails: false,
    acceptsCacheControl: false,
    routerFields: [],
    developerRole: true,
    messageNames: true,
    aliases: [],
    ...spec,
  };
}
