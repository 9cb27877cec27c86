import type { ServerResponse } from 'node:http';
import type { ChatCompletion, ChatCompletionChunk, ChunkDelta, EmbeddingsResponse, FinishReason, Usage } from '@gw/llm';
import { argumentFragments, inject, planReply, type FakeBehaviour, type ReplyPlan } from './fake-behaviour';
import { FakeHttpServer, type ReceivedRequest } from './fake-http.server';

/**
 * A fake OpenAI (and OpenAI-compatible) upstream speaking the real wire format
 * (wire-formats.md §1): POST <any prefix>/chat/completions, POST <any prefix>/embeddings,
 * GET <any prefix>/models, so one instance can stand in for every OpenAI-compatible vendor whatever
 * its base path (`/v1`, `/openai/v1`, `/compatible-mode/v1`). OpenAI SDK clients use `${baseUrl}/v1`.
 */
export class FakeOpenAiServer extends FakeHttpServer {
  protected async handle(rec: ReceivedRequest, res: ServerResponse): Promise<void> {
    const b = rec.behaviour;
    if (b.headerDelayMs) await this.sleep(b.headerDelayMs);
    if (res.destroyed) return;
    const requestId = `req_fake_${rec.seq}`;
    const headers: Record<string, string> = { 'x-request-id': requestId, ...b.headers };
    const path = rec.path.split('?')[0];

    if (!this.authorized(rec)) {
      this.sendJson(res, 401, errorBody(401, { errorMessage: 'Incorrect API key provided.', errorCode: 'invalid_api_key' }), headers);
      return;
    }
    if (b.status !== undefined && b.status >= 400) {
      if (b.retryAfter !== undefined) headers['retry-after'] = String(b.retryAfter);
      this.sendJson(res, b.status, b.rawBody ?? errorBody(b.status, b), headers);
      return;
    }
    if (b.rawBody !== undefined) {
      this.sendJson(res, b.status ?? 200, b.rawBody, headers);
      return;
    }
    if (rec.method === 'GET' && path.endsWith('/models')) {
      this.sendJson(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 1_700_000_000, owned_by: 'fake' }] }, headers);
      return;
    }
    if (rec.method === 'POST' && path.endsWith('/embeddings')) {
      this.sendJson(res, 200, embeddings(rec.body), headers);
      return;
    }
    if (rec.method !== 'POST' || !path.endsWith('/chat/completions')) {
      this.sendJson(res, 404, errorBody(404, { errorMessage: `Unknown route ${rec.method} ${path}` }), headers);
      return;
    }
    const req = readChatRequest(rec.body);
    if (typeof req === 'string') {
      this.sendJson(res, 400, errorBody(400, { errorMessage: req }), headers);
      return;
    }
    const plan = planReply(b, { lastUserText: req.lastUserText, requestBytes: rec.rawBody.length, maxTokens: req.maxTokens, seq: rec.seq });
    const base = { id: `chatcmpl-fake-${rec.seq}`, created: Math.floor(rec.receivedAt / 1000), model: b.model ?? req.model };
    if (!req.stream) {
      this.sendJson(res, 200, completion(base, plan, req.n), headers);
      return;
    }
    await this.sendStream(res, streamEvents(base, plan, req, b), b, headers);
  }

  private authorized(rec: ReceivedRequest): boolean {
    const key = this.options.apiKey;
    return key === undefined || rec.headers.authorization === `Bearer ${key}`;
  }
}

interface ChatInput {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  n: number;
  maxTokens?: number;
  lastUserText: string;
}

function readChatRequest(body: unknown): ChatInput | string {
  if (typeof body !== 'object' || body === null) return 'We could not parse the JSON body of your request.';
  const r = body as Record<string, unknown>;
  if (typeof r.model !== 'string' || r.model === '') return "you must provide a model parameter";
  if (!Array.isArray(r.messages) || r.messages.length === 0) return "Invalid 'messages': empty array. Expected an array with minimum length 1.";
  if (r.stream_options != null && r.stream !== true) return 'The stream_options parameter is only allowed when stream is enabled.';
  const max = typeof r.max_completion_tokens === 'number' ? r.max_completion_tokens : typeof r.max_tokens === 'number' ? r.max_tokens : undefined;
  const opts = r.stream_options as { include_usage?: unknown } | null | undefined;
  return {
    model: r.model,
    stream: r.stream === true,
    includeUsage: opts?.include_usage === true,
    n: typeof r.n === 'number' && r.n > 1 ? Math.min(Math.floor(r.n), 8) : 1,
    maxTokens: max,
    lastUserText: lastUserText(r.messages),
  };
}

function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown };
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content.map((p: { type?: unknown; text?: unknown }) => (p?.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
    }
  }
  return '';
}

const ERROR_TYPES: Record<number, [type: string, code: string | null, message: string]> = {
  400: ['invalid_request_error', null, 'Invalid request.'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided.'],
  403: ['permission_error', 'unsupported_country_region_territory', 'Country, region, or territory not supported.'],
  404: ['invalid_request_error', 'model_not_found', 'The model does not exist or you do not have access to it.'],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for requests.'],
  500: ['server_error', null, 'The server had an error while processing your request.'],
  503: ['server_error', null, 'The engine is currently overloaded, please try again later.'],
};

function errorBody(status: number, b: Pick<FakeBehaviour, 'errorType' | 'errorMessage' | 'errorCode'>): { error: { message: string; type: string; param: null; code: string | number | null } } {
  const [type, code, message] = ERROR_TYPES[status] ?? (status >= 500 ? ERROR_TYPES[500] : ERROR_TYPES[400]);
  return { error: { message: b.errorMessage ?? message, type: b.errorType ?? type, param: null, code: b.errorCode ?? code } };
}

function usageOf(plan: ReplyPlan): Usage {
  const prompt_tokens_details: NonNullable<Usage['prompt_tokens_details']> = { cached_tokens: plan.cachedTokens, audio_tokens: 0 };
  if (plan.cacheWriteTokens > 0) prompt_tokens_details.cache_write_tokens = plan.cacheWriteTokens;
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.promptTokens + plan.completionTokens,
    prompt_tokens_details,
    completion_tokens_details: { reasoning_tokens: plan.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

interface Base {
  id: string;
  created: number;
  model: string;
}

function completion(base: Base, plan: ReplyPlan, n: number): ChatCompletion {
  const choices: ChatCompletion['choices'] = [];
  for (let i = 0; i < n; i++) {
    const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: plan.text === '' && plan.toolCalls.length > 0 ? null : plan.text, refusal: null, annotations: [] };
    if (plan.toolCalls.length > 0) message.tool_calls = plan.toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } }));
    if (plan.thinking !== '') message.reasoning = plan.thinking;
    choices.push({ index: i, message, logprobs: null, finish_reason: plan.finish as FinishReason });
  }
  return { ...base, object: 'chat.completion', choices, usage: usageOf(plan), service_tier: 'default', system_fingerprint: 'fp_fake' };
}

function streamEvents(base: Base, plan: ReplyPlan, req: ChatInput, b: FakeBehaviour): string[] {
  const placement = b.usage ?? (req.includeUsage ? 'final-chunk' : 'none');
  const usageField = req.includeUsage || placement !== 'none';
  const chunk = (index: number, delta: ChunkDelta, finish: string | null, usage?: Usage): string => {
    const c: ChatCompletionChunk & { obfuscation?: string } = {
      ...base,
      object: 'chat.completion.chunk',
      system_fingerprint: 'fp_fake',
      choices: [{ index, delta, logprobs: null, finish_reason: finish as FinishReason | null }],
    };
    if (usageField) c.usage = usage ?? null;
    if (b.obfuscation) c.obfuscation = 'x7Q';
    return `data: ${JSON.stringify(c)}\n\n`;
  };

  const events: string[] = [];
  if (b.comments) events.push(': OPENROUTER PROCESSING\n\n');
  for (let i = 0; i < req.n; i++) {
    events.push(chunk(i, { role: 'assistant', content: '', refusal: null }, null));
    for (const t of plan.thinkingDeltas) events.push(chunk(i, { reasoning: t }, null));
    for (const d of plan.deltas) events.push(chunk(i, { content: d }, null));
    plan.toolCalls.forEach((t, k) => {
      events.push(chunk(i, { tool_calls: [{ index: k, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] }, null));
      for (const frag of argumentFragments(t.arguments)) events.push(chunk(i, { tool_calls: [{ index: k, function: { arguments: frag } }] }, null));
    });
    const last = i === req.n - 1;
    events.push(chunk(i, {}, plan.finish, last && placement === 'last-choice-chunk' ? usageOf(plan) : undefined));
  }
  if (placement === 'final-chunk') {
    const c: ChatCompletionChunk = { ...base, object: 'chat.completion.chunk', system_fingerprint: 'fp_fake', choices: [], usage: usageOf(plan) };
    events.push(`data: ${JSON.stringify(c)}\n\n`);
  }
  if (!b.omitDone) events.push('data: [DONE]\n\n');
  return inject(events, b, {
    defaultType: 'server_error',
    errorEvent: (type, message, code) => `data: ${JSON.stringify({ error: { message, type, param: null, code } })}\n\n`,
    malformedEvent: 'data: {"id":"broken","choices":[{"delta":\n\n',
  });
}

function embeddings(body: unknown): EmbeddingsResponse {
  const r = (typeof body === 'object' && body !== null ? body : {}) as { input?: unknown; model?: unknown; dimensions?: unknown; encoding_format?: unknown };
  const inputs: unknown[] = Array.isArray(r.input) ? (r.input.length > 0 && typeof r.input[0] === 'number' ? [r.input] : r.input) : [r.input ?? ''];
  const dims = typeof r.dimensions === 'number' && r.dimensions > 0 ? Math.min(r.dimensions, 4096) : 8;
  let tokens = 0;
  const data = inputs.map((input, index) => {
    const text = typeof input === 'string' ? input : JSON.stringify(input);
    tokens += Math.max(1, Math.ceil(text.length / 4));
    const vec = vectorFor(text, dims);
    const embedding = r.encoding_format === 'base64' ? Buffer.from(vec.buffer, vec.byteOffset, vec.byteLength).toString('base64') : Array.from(vec);
    return { object: 'embedding' as const, index, embedding };
  });
  return { object: 'list', data, model: typeof r.model === 'string' ? r.model : 'fake-embedding', usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

/** A deterministic unit vector derived from the text (FNV-1a seeded xorshift). */
function vectorFor(text: string, dims: number): Float32Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const v = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    h >>>= 0;
    v[i] = h / 0xffffffff - 0.5;
    norm += v[i] * v[i];
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dims; i++) v[i] *= scale;
  return v;
}
