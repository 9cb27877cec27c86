import type { ServerResponse } from 'node:http';
import { inject, planReply, type FakeBehaviour, type ReplyPlan } from './fake-behaviour';
import { FakeHttpServer, type ReceivedRequest } from './fake-http.server';
import { validateGenerateContent } from './fake-gemini.rules';

/** Gemini-only knobs on top of the shared behaviour. */
export interface FakeGeminiBehaviour extends FakeBehaviour {
  /** `usageMetadata.toolUsePromptTokenCount` (not part of promptTokenCount, wire-formats.md §3.6). */
  toolUsePromptTokens?: number;
  /** Send finishReason in a trailing chunk with an empty text part, as newer models do (§3.7). */
  finishInSeparateChunk?: boolean;
  /** Block the prompt: `promptFeedback.blockReason` and no candidates. */
  promptBlockReason?: string;
}

/**
 * A fake Google Gemini API (wire-formats.md §3): POST <prefix>/models/<model>:generateContent,
 * :streamGenerateContent?alt=sse (without alt=sse: a JSON array, like the real API), :embedContent
 * and :batchEmbedContents. Function calls arrive whole with a thoughtSignature on the first one,
 * finishReason is STOP for tool calls, usage has cached content and thoughts outside candidates,
 * errors use Google's body (an invalid key is a 400 API_KEY_INVALID). With `apiKey`, the key must
 * come in `x-goog-api-key`. It enforces the request rules that make the real API answer 400.
 * Clients use `${baseUrl}/v1beta` as their base.
 */
export class FakeGeminiServer extends FakeHttpServer {
  override enqueue(...behaviours: FakeGeminiBehaviour[]): this {
    return super.enqueue(...behaviours);
  }

  override setDefaults(b: FakeGeminiBehaviour): this {
    return super.setDefaults(b);
  }

  protected async handle(rec: ReceivedRequest, res: ServerResponse): Promise<void> {
    const b = rec.behaviour as FakeGeminiBehaviour;
    if (b.headerDelayMs) await this.sleep(b.headerDelayMs);
    if (res.destroyed) return;
    const headers: Record<string, string> = { 'x-goog-request-id': `fake-${rec.seq}`, ...b.headers };
    const [path, query = ''] = rec.path.split('?');
    const fail = (status: number, message?: string, reason?: string): void => this.sendJson(res, status, errorBody(status, message ?? b.errorMessage, reason, b.errorType), headers);

    if (!this.authorized(rec)) return fail(400, 'API key not valid. Please pass a valid API key.', 'API_KEY_INVALID');
    if (b.status !== undefined && b.status >= 400) {
      if (b.retryAfter !== undefined) headers['retry-after'] = String(b.retryAfter);
      if (b.rawBody !== undefined) return this.sendJson(res, b.status, b.rawBody, headers);
      return fail(b.status, undefined, typeof b.errorCode === 'string' ? b.errorCode : undefined);
    }
    if (b.rawBody !== undefined) return this.sendJson(res, b.status ?? 200, b.rawBody, headers);
    const route = /\/(models|tunedModels)\/([^/:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/.exec(path);
    if (rec.method !== 'POST' || route === null) return fail(404, `Method not found: ${rec.method} ${path}`);
    const model = decodeURIComponent(route[2]);
    const method = route[3];

    if (method === 'embedContent' || method === 'batchEmbedContents') {
      const out = embeddings(method, rec.body, `${route[1]}/${model}`);
      return typeof out === 'string' ? fail(400, out) : this.sendJson(res, 200, out, headers);
    }
    const facts = validateGenerateContent(rec.body, model);
    if (typeof facts === 'string') return fail(400, facts);
    const plan = planReply(b, { lastUserText: facts.lastUserText, requestBytes: rec.rawBody.length, maxTokens: facts.maxTokens, seq: rec.seq });
    const reply = { model: b.model ?? model, responseId: `fake-${rec.seq}`, candidates: facts.candidateCount };
    if (method === 'generateContent') return this.sendJson(res, 200, response(plan, b, reply), headers);
    const events = streamChunks(plan, b, reply);
    if (!new URLSearchParams(query).has('alt')) {
      // Without alt=sse the real API streams one JSON array (§3.1).
      return this.sendJson(res, 200, `[${events.map((e) => JSON.stringify(e)).join(',\n')}]`, headers);
    }
    await this.sendStream(res, sseEvents(events, b), b, headers);
  }

  private authorized(rec: ReceivedRequest): boolean {
    const key = this.options.apiKey;
    return key === undefined || rec.headers['x-goog-api-key'] === key;
  }
}

const STATUS_NAMES: Record<number, [status: string, message: string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: ['UNAUTHENTICATED', 'Request had invalid authentication credentials.'],
  402: ['RESOURCE_EXHAUSTED', 'Your prepayment credits are depleted.'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission.'],
  404: ['NOT_FOUND', 'Requested entity was not found.'],
  429: ['RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'],
  500: ['INTERNAL', 'An internal error has occurred.'],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
  504: ['DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'],
};

function errorBody(status: number, message: string | undefined, reason: string | undefined, statusName: string | undefined): object {
  const [name, dflt] = STATUS_NAMES[status] ?? (status >= 500 ? STATUS_NAMES[500] : STATUS_NAMES[400]);
  const error: Record<string, unknown> = { code: status, message: message ?? dflt, status: statusName ?? name };
  if (reason !== undefined) error.details = [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' }];
  return { error };
}

interface Reply {
  model: string;
  responseId: string;
  candidates: number;
}

type Part = Record<string, unknown>;

const FINISH: Record<string, string> = { stop: 'STOP', length: 'MAX_TOKENS', tool_calls: 'STOP' };

function finishReason(plan: ReplyPlan): string {
  return plan.overridden ? plan.finish : (FINISH[plan.finish] ?? 'STOP');
}

/** Gemini bases: cached inside the prompt, thoughts outside the candidates, tool-use prompt apart (§3.6). */
function usageMetadata(plan: ReplyPlan, b: FakeGeminiBehaviour, final: boolean): Record<string, number> {
  const toolUse = b.toolUsePromptTokens ?? 0;
  const u: Record<string, number> = { promptTokenCount: plan.promptTokens };
  if (plan.cachedTokens > 0) u.cachedContentTokenCount = plan.cachedTokens;
  if (toolUse > 0) u.toolUsePromptTokenCount = toolUse;
  if (!final) {
    u.totalTokenCount = plan.promptTokens + toolUse;
    return u;
  }
  const candidates = plan.completionTokens - plan.reasoningTokens;
  u.candidatesTokenCount = candidates;
  if (plan.reasoningTokens > 0) u.thoughtsTokenCount = plan.reasoningTokens;
  u.totalTokenCount = plan.promptTokens + toolUse + candidates + plan.reasoningTokens;
  return u;
}

function signatureOf(b: FakeBehaviour): string {
  return b.signature ?? 'fake-thought-signature';
}

/** Calls as Gemini sends them: whole, an `id` only when the behaviour gave one (Gemini 3 style), the signature on the first. */
function callParts(plan: ReplyPlan, b: FakeBehaviour): Part[] {
  return plan.toolCalls.map((t, k) => {
    const id = b.toolCalls?.[k]?.id;
    const part: Part = { functionCall: { name: t.name, args: JSON.parse(t.arguments === '' ? '{}' : t.arguments), ...(id !== undefined ? { id } : {}) } };
    if (k === 0) part.thoughtSignature = signatureOf(b);
    return part;
  });
}

function response(plan: ReplyPlan, b: FakeGeminiBehaviour, reply: Reply): object {
  if (b.promptBlockReason !== undefined) return { promptFeedback: { blockReason: b.promptBlockReason }, usageMetadata: usageMetadata(plan, b, false), modelVersion: reply.model, responseId: reply.responseId };
  const parts: Part[] = [];
  if (plan.thinking !== '') parts.push({ text: plan.thinking, thought: true });
  if (plan.text !== '') parts.push(plan.toolCalls.length === 0 && plan.thinking !== '' ? { text: plan.text, thoughtSignature: signatureOf(b) } : { text: plan.text });
  parts.push(...callParts(plan, b));
  const candidates = Array.from({ length: reply.candidates }, (_, index) => ({ content: { role: 'model', parts }, finishReason: finishReason(plan), index }));
  return { candidates, usageMetadata: usageMetadata(plan, b, true), modelVersion: reply.model, responseId: reply.responseId };
}

/** The stream as response fragments: thoughts, text deltas, all calls in one chunk, finish on the last (or a trailing) chunk. */
function streamChunks(plan: ReplyPlan, b: FakeGeminiBehaviour, reply: Reply): object[] {
  const meta = { modelVersion: reply.model, responseId: reply.responseId };
  if (b.promptBlockReason !== undefined) return [{ promptFeedback: { blockReason: b.promptBlockReason }, usageMetadata: usageMetadata(plan, b, false), ...meta }];
  const out: object[] = [];
  for (let index = 0; index < reply.candidates; index++) {
    const pieces: Part[][] = [];
    for (const t of plan.thinkingDeltas) pieces.push([{ text: t, thought: true }]);
    plan.deltas.forEach((d, k) => {
      const last = k === plan.deltas.length - 1;
      pieces.push([last && plan.toolCalls.length === 0 && plan.thinking !== '' ? { text: d, thoughtSignature: signatureOf(b) } : { text: d }]);
    });
    if (plan.toolCalls.length > 0) pieces.push(callParts(plan, b));
    if (b.finishInSeparateChunk || pieces.length === 0) pieces.push([{ text: '' }]);
    pieces.forEach((parts, k) => {
      const last = k === pieces.length - 1;
      const isFinal = last && index === reply.candidates - 1;
      // A trailing chunk's empty text part is how the API sends it; requests may not contain one.
      const candidate: Record<string, unknown> = { content: { role: 'model', parts }, index };
      if (last) candidate.finishReason = finishReason(plan);
      out.push({ candidates: [candidate], usageMetadata: usageMetadata(plan, b, isFinal), ...meta });
    });
  }
  return out;
}

function sseEvents(chunks: object[], b: FakeBehaviour): string[] {
  return inject(
    chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`),
    b,
    {
      defaultType: 'INTERNAL',
      errorEvent: (type, message, code) => `data: ${JSON.stringify({ error: { code: typeof code === 'number' ? code : codeOf(type), message, status: type } })}\r\n\r\n`,
      malformedEvent: 'data: {"candidates":[{"content":\r\n\r\n',
    },
  );
}

/** HTTP code of a status name; RESOURCE_EXHAUSTED is a quota 429 in streams (402 is prepaid credit, never mid-stream). */
const CODES: Record<string, number> = { INVALID_ARGUMENT: 400, UNAUTHENTICATED: 401, PERMISSION_DENIED: 403, NOT_FOUND: 404, RESOURCE_EXHAUSTED: 429, INTERNAL: 500, UNAVAILABLE: 503, DEADLINE_EXCEEDED: 504 };

function codeOf(status: string): number {
  return CODES[status] ?? 500;
}

function embeddings(method: string, body: unknown, resource: string): object | string {
  const r = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const vector = (req: Record<string, unknown>): number[] | string => {
    const content = req.content as { parts?: Array<{ text?: unknown }> } | undefined;
    const text = (content?.parts ?? []).map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
    if (text === '') return '* EmbedContentRequest.content: contents must not be empty';
    const dims = typeof req.outputDimensionality === 'number' && req.outputDimensionality > 0 ? Math.min(req.outputDimensionality, 3072) : 8;
    return vectorFor(text, dims);
  };
  if (method === 'embedContent') {
    const values = vector(r);
    return typeof values === 'string' ? values : { embedding: { values } };
  }
  if (!Array.isArray(r.requests) || r.requests.length === 0) return '* BatchEmbedContentsRequest.requests: requests must not be empty';
  // The real API's limit (a 400 naming the field).
  if (r.requests.length > 100) return '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch';
  const out: Array<{ values: number[] }> = [];
  for (let i = 0; i < r.requests.length; i++) {
    const req = r.requests[i] as Record<string, unknown>;
    if (req.model !== resource) return `Model name in requests[${i}] (${String(req.model)}) does not match the model in the URL (${resource}).`;
    const values = vector(req);
    if (typeof values === 'string') return values;
    out.push({ values });
  }
  return { embeddings: out };
}

/** A deterministic unit vector derived from the text (FNV-1a seeded xorshift). */
function vectorFor(text: string, dims: number): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const v: number[] = [];
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    h ^= h << 13;
    h ^= h >>> 17;
    h ^= h << 5;
    h >>>= 0;
    const x = Math.fround(h / 0xffffffff - 0.5);
    v.push(x);
    norm += x * x;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return v.map((x) => Math.fround(x * scale));
}
