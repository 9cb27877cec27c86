import { DomainError, ErrorCode, type TokenUsage } from '@gw/core';
import { usageToOpenAi } from '../../openai-usage';
import { GATEWAY_ONLY_FIELDS, ROUTER_FIELDS, type ChatChoice, type ChatCompletion, type ChatMessage, type ChatRequest, type EmbeddingsRequest, type TextPart, type Tool } from '../../openai.types';
import type {
  BuildOptions,
  EmbeddingsBuildOptions,
  EmbeddingsContext,
  ParsedCompletion,
  ParsedEmbeddings,
  ProviderAdapter,
  ProviderTarget,
  ResponseContext,
  StreamTransformer,
  UpstreamHttpRequest,
} from '../../provider';
import { effortFromReasoningObject } from '../../reasoning-object';
import { limitStop, reasoningIsPermission, rejectUnsupported } from '../../unsupported-params';
import { isRecord, mapErrorPayload, mapUpstreamError, parseUpstreamErrorBody, type HeaderBag } from '../../upstream-errors';
import { upstreamUrl } from '../../url';
import { resolveSpec, type OpenAiCompatibleSpec, type ResolvedSpec } from './openai-compatible.config';
import { buildOpenAiEmbeddingsRequest, parseOpenAiEmbeddingsResponse } from './openai-compatible.embeddings';
import { FINISHED_WITH_ERROR, flattenContentChunks, normalizeFinishReason, renameReasoning, takeUsage } from './openai-compatible.normalize';
import { OpenAiCompatibleStream } from './openai-compatible.stream';

/** One adapter class for every OpenAI-compatible vendor; the spec is the only difference. */
export function createOpenAiCompatibleAdapter(spec: OpenAiCompatibleSpec): ProviderAdapter {
  return new OpenAiCompatibleAdapter(resolveSpec(spec));
}

class OpenAiCompatibleAdapter implements ProviderAdapter {
  readonly id: string;
  readonly wireFormat = 'openai' as const;
  readonly envPrefix: string;
  readonly defaultBaseUrl: string;
  readonly reasoningInToolLoop: boolean;
  readonly aliases: readonly string[];
  readonly buildEmbeddingsRequest?: (req: EmbeddingsRequest, target: ProviderTarget, opts: EmbeddingsBuildOptions) => UpstreamHttpRequest;
  readonly parseEmbeddingsResponse?: (body: unknown, ctx: EmbeddingsContext) => ParsedEmbeddings;

  /** What buildChatRequest leaves out of the client's fields, precomputed from the spec. */
  private readonly fields: ChatFields;

  constructor(private readonly spec: ResolvedSpec) {
    this.fields = chatFieldsOf(spec);
    this.id = spec.id;
    this.envPrefix = spec.envPrefix;
    this.defaultBaseUrl = spec.defaultBaseUrl;
    this.reasoningInToolLoop = spec.reasoningInToolLoop && spec.reasoningField !== undefined;
    this.aliases = spec.aliases;
    const embeddings = spec.embeddings;
    // Vendors without an embeddings endpoint leave both undefined (ProviderAdapter contract).
    if (embeddings !== undefined) {
      this.buildEmbeddingsRequest = (req, target, opts) =>
        buildOpenAiEmbeddingsRequest(spec, embeddings, req, { ...target, baseUrl: this.baseUrl(target) }, opts);
      this.parseEmbeddingsResponse = (body, ctx) => parseOpenAiEmbeddingsResponse(spec.id, body, ctx);
    }
  }

  buildChatRequest(req: ChatRequest, target: ProviderTarget, opts: BuildOptions): UpstreamHttpRequest {
    const spec = this.spec;
    const fields = this.fields;
    // Unsupported parameters the vendor would not ignore anyway: refused (policy reject) or left
    // out. An effort that stands for Anthropic `thinking` is left out whatever the policy.
    const checked = reasoningIsPermission(req) ? fields.checked.filter((p) => p !== 'reasoning_effort') : fields.checked;
    rejectUnsupported(spec.id, req, checked, opts.unsupportedParams);
    // A copy of the client's fields: unknown ones pass through (vendor extensions); the gateway's
    // request validation decides what may reach this point. Built by adding, never deleting, so
    // the object keeps a fast shape (deleting made every body a dictionary).
    const source = req as unknown as Record<string, unknown>;
    const body: Record<string, unknown> = {};
    for (const k of Object.keys(source)) if (!fields.left.has(k)) body[k] = source[k];
    for (const [from, to] of fields.renames) if (source[from] !== undefined) body[to] = source[from];

    body.model = target.upstreamModel;
    // A vendor given the reasoning object gets it alone, not also the effort the gateway read from it.
    if (fields.takesReasoningObject && effortFromReasoningObject(req)) body.reasoning_effort = undefined;
    if (spec.thinkingToggle && req.reasoning_effort === 'none') {
      body.reasoning_effort = undefined;
      body.thinking = { type: 'disabled' };
    }
    if (Array.isArray(req.stop) && body.stop !== undefined) body.stop = limitStop(spec.id, req, req.stop, spec.maxStopSequences, opts.unsupportedParams);
    const clientMax = req.max_completion_tokens ?? req.max_tokens ?? undefined;
    const maxOutputTokens = opts.maxTokens ?? clientMax;
    if (maxOutputTokens !== undefined) body[spec.maxTokensField] = maxOutputTokens;

    if (opts.stream) {
      body.stream = true;
      // The gateway bills from upstream usage, so it always asks for it (wire-formats.md rule 8).
      if (spec.streamUsage === 'stream_options') body.stream_options = { include_usage: true };
    }

    body.messages = prepareMessages(req.messages, spec);
    if (!spec.acceptsCacheControl && Array.isArray(body.tools)) body.tools = withoutToolCacheControl(body.tools as Tool[]);

    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: opts.stream ? 'text/event-stream' : 'application/json',
      ...spec.extraHeaders,
    };
    if (spec.auth.kind === 'bearer') headers.authorization = `Bearer ${target.apiKey}`;
    else headers[spec.auth.name] = target.apiKey;

    const out: UpstreamHttpRequest = {
      url: upstreamUrl(this.baseUrl(target), spec.chatPath, target.upstreamModel, spec.query),
      headers,
      body: JSON.stringify(body),
    };
    if (maxOutputTokens !== undefined) out.maxOutputTokens = maxOutputTokens;
    return out;
  }

  parseChatResponse(body: unknown, ctx: ResponseContext): ParsedCompletion {
    if (!isRecord(body)) throw this.badResponse('response is not a JSON object');
    if (body.error !== undefined && body.error !== null) throw mapErrorPayload(this.id, body, { inStream: false, nothingSent: true });
    const choices = body.choices;
    if (!Array.isArray(choices) || choices.length === 0) throw this.badResponse('response has no choices');

    let usage: TokenUsage | undefined = takeUsage(this.spec, body);
    for (const c of choices) {
      if (!isRecord(c) || !isRecord(c.message)) throw this.badResponse('choice without a message');
      if (typeof c.index !== 'number') c.index = 0;
      c.finish_reason = normalizeFinishReason(c.finish_reason) ?? 'stop';
      if (c.finish_reason === 'error') throw mapErrorPayload(this.id, FINISHED_WITH_ERROR, { inStream: false, nothingSent: true });
      flattenContentChunks(c.message, false);
      renameReasoning(this.spec, c.message);
      if (c.usage !== undefined) usage = takeUsage(this.spec, c) ?? usage;
    }

    const completion: ChatCompletion = {
      id: ctx.id,
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
      choices: choices as ChatChoice[],
    };
    if (usage !== undefined) completion.usage = usageToOpenAi(usage);
    if (typeof body.system_fingerprint === 'string') completion.system_fingerprint = body.system_fingerprint;
    if (typeof body.service_tier === 'string') completion.service_tier = body.service_tier;
    const target = completion as unknown as Record<string, unknown>;
    for (const f of this.spec.passthroughFields) if (body[f] !== undefined) target[f] = body[f];
    return usage === undefined ? { completion } : { completion, usage };
  }

  createStreamTransformer(ctx: ResponseContext): StreamTransformer {
    return new OpenAiCompatibleStream(this.spec, ctx);
  }

  mapError(status: number, body: string, headers: HeaderBag): DomainError {
    return mapUpstreamError({ provider: this.id, status, body: parseUpstreamErrorBody(body), headers });
  }

  /** The configured base, else the vendor default; a vendor with no global endpoint (Azure) needs one configured. */
  private baseUrl(target: ProviderTarget): string {
    const base = target.baseUrl || this.spec.defaultBaseUrl;
    if (base === '') {
      throw new DomainError(ErrorCode.UpstreamError, `Provider ${this.id} has no base URL configured (${this.envPrefix}_BASE_URL)`, {
        retryable: true,
        meta: { provider: this.id, reason: 'base_url_missing' },
      });
    }
    return base;
  }

  private badResponse(detail: string): DomainError {
    return new DomainError(ErrorCode.UpstreamBadResponse, `Provider ${this.id} returned an unusable response`, {
      retryable: true,
      meta: { provider: this.id, detail },
    });
  }
}

/**
 * Strips the gateway's reasoning fields, tool-error flags and the `cache_control` hints the
 * vendor does not accept, sends `developer` as `system` to a vendor without that role, and gives
 * a vendor that wants it its reasoning text back in the current tool loop. Only the messages that
 * carry them are copied; the common case allocates nothing.
 */
function prepareMessages(messages: ChatMessage[], spec: ResolvedSpec): ChatMessage[] {
  let copy: ChatMessage[] | undefined;
  let lastUser = -1;
  if (spec.reasoningInToolLoop && spec.reasoningField) for (let i = 0; i < messages.length; i++) if (messages[i].role === 'user') lastUser = i;
  for (let i = 0; i < messages.length; i++) {
    let m = messages[i];
    const original = m;
    if (!spec.acceptsReasoningDetails && m.role === 'assistant' && (m.reasoning !== undefined || m.reasoning_details !== undefined)) {
      const { reasoning, reasoning_details: _d, ...rest } = m;
      const echo = spec.reasoningInToolLoop && spec.reasoningField && i > lastUser && (rest.tool_calls?.length ?? 0) > 0 && typeof reasoning === 'string';
      m = echo ? ({ ...rest, [spec.reasoningField as string]: reasoning } as ChatMessage) : rest;
    }
    if (m.role === 'developer' && !spec.developerRole) m = { ...m, role: 'system' };
    if (!spec.messageNames && 'name' in m && m.name !== undefined) {
      const { name: _n, ...rest } = m;
      m = rest as ChatMessage;
    }
    if (m.role === 'tool' && m.is_error !== undefined) {
      const { is_error: failed, ...rest } = m;
      m = failed ? { ...rest, content: errorText(rest.content) } : rest;
    }
    if (!spec.acceptsCacheControl && Array.isArray(m.content) && m.content.some((p) => 'cache_control' in p)) {
      m = { ...m, content: m.content.map(withoutCacheControl) } as ChatMessage;
    }
    if (m === original) continue;
    copy ??= messages.slice();
    copy[i] = m;
  }
  return copy ?? messages;
}

/** OpenAI tool messages have no error flag (wire-formats.md §4.2): the text says it. */
function errorText(content: string | TextPart[]): string | TextPart[] {
  const said = (text: string) => (text === '' ? 'Error' : `Error: ${text}`);
  if (typeof content === 'string') return said(content);
  const first = content.findIndex((p) => p.type === 'text');
  if (first < 0) return [{ type: 'text', text: 'Error' }, ...content];
  return content.map((p, i) => (i === first ? { ...p, text: said(p.text) } : p));
}

function withoutCacheControl<T extends object>(part: T): T {
  if (!('cache_control' in part)) return part;
  const { cache_control: _c, ...rest } = part as T & { cache_control?: unknown };
  return rest as T;
}

function withoutToolCacheControl(tools: Tool[]): Tool[] {
  return tools.some((t) => 'cache_control' in t) ? tools.map(withoutCacheControl) : tools;
}

interface ChatFields {
  left: ReadonlySet<string>;
  checked: readonly string[];
  renames: readonly [string, string][];
  /** The vendor takes OpenRouter's `reasoning` object as sent. */
  takesReasoningObject: boolean;
}

/**
 * The client fields a vendor's body leaves out: gateway-only, OpenRouter extensions the vendor
 * does not take, and ignored fields (dropped before anything else), unsupported ones (refused or
 * dropped), the fields the adapter sets itself (output cap, stream flags) and the sources of
 * renames. Renames apply only to fields still there.
 */
function chatFieldsOf(spec: ResolvedSpec): ChatFields {
  const routerDropped = ROUTER_FIELDS.filter((f) => !spec.routerFields.includes(f));
  const dropped = new Set<string>([...GATEWAY_ONLY_FIELDS, ...routerDropped, ...spec.ignored]);
  const checked = spec.unsupported.filter((p) => !dropped.has(p));
  const set = ['max_tokens', 'max_completion_tokens', 'stream_options', 'stream'];
  const gone = new Set<string>([...dropped, ...checked, ...set]);
  const renames: [string, string][] = [];
  for (const [from, to] of Object.entries(spec.renames)) if (to !== undefined && !gone.has(from)) renames.push([from, to]);
  return { left: new Set([...gone, ...renames.map(([from]) => from)]), checked, renames, takesReasoningObject: spec.routerFields.includes('reasoning') };
}
