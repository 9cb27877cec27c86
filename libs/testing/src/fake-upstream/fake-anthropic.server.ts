import type { ServerResponse } from 'node:http';
import { argumentFragments, inject, planReply, type FakeBehaviour, type ReplyPlan } from './fake-behaviour';
import { FakeHttpServer, type ReceivedRequest } from './fake-http.server';

/**
 * A fake Anthropic Messages upstream (wire-formats.md §2): POST /v1/messages, named SSE events in
 * the real order, usage with cache tokens, Anthropic error bodies (529 overloaded included).
 * It also enforces the request rules that make the real API answer 400 (max_tokens required, no
 * empty text blocks, tool results right after tool uses), so adapter bugs surface in tests.
 * Anthropic SDK clients use `baseUrl` itself as their baseURL.
 */
export class FakeAnthropicServer extends FakeHttpServer {
  protected override keepAlive(): string {
    return ev('ping', {});
  }

  protected async handle(rec: ReceivedRequest, res: ServerResponse): Promise<void> {
    const b = rec.behaviour;
    if (b.headerDelayMs) await this.sleep(b.headerDelayMs);
    if (res.destroyed) return;
    const requestId = `req_fake${String(rec.seq).padStart(8, '0')}`;
    const headers: Record<string, string> = { 'request-id': requestId, ...b.headers };
    const path = rec.path.split('?')[0];
    const fail = (status: number, message?: string, type?: string): void =>
      this.sendJson(res, status, errorBody(status, requestId, { errorMessage: message ?? b.errorMessage, errorType: type ?? b.errorType }), headers);

    if (!this.authorized(rec)) return fail(401, 'invalid x-api-key', 'authentication_error');
    if (b.status !== undefined && b.status >= 400) {
      if (b.retryAfter !== undefined) headers['retry-after'] = String(b.retryAfter);
      if (b.rawBody !== undefined) return this.sendJson(res, b.status, b.rawBody, headers);
      return fail(b.status);
    }
    if (b.rawBody !== undefined) return this.sendJson(res, b.status ?? 200, b.rawBody, headers);
    if (rec.method !== 'POST' || !path.endsWith('/v1/messages')) return fail(404, `Not found: ${rec.method} ${path}`, 'not_found_error');
    if (rec.headers['anthropic-version'] === undefined) return fail(400, 'anthropic-version: header is required', 'invalid_request_error');
    const req = validate(rec.body);
    if (typeof req === 'string') return fail(400, req, 'invalid_request_error');

    const plan = planReply(b, { lastUserText: req.lastUserText, requestBytes: rec.rawBody.length, maxTokens: b.ignoreMaxTokens ? undefined : req.maxTokens, seq: rec.seq });
    const id = `msg_fake_${rec.seq}`;
    const model = b.model ?? req.model;
    if (!req.stream) return this.sendJson(res, 200, message(id, model, plan, b), headers);
    await this.sendStream(res, streamEvents(id, model, plan, b), b, headers);
  }

  private authorized(rec: ReceivedRequest): boolean {
    const key = this.options.apiKey;
    if (key === undefined) return true;
    // @anthropic-ai/sdk >= 1.0 sends Authorization: Bearer; older clients and the gateway send x-api-key.
    return rec.headers['x-api-key'] === key || rec.headers.authorization === `Bearer ${key}`;
  }
}

const ERROR_TYPES: Record<number, [type: string, message: string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Your credit balance is too low'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out'],
  529: ['overloaded_error', 'Overloaded'],
};

function errorBody(status: number, requestId: string, b: Pick<FakeBehaviour, 'errorType' | 'errorMessage'>): object {
  const [type, message] = ERROR_TYPES[status] ?? (status >= 500 ? ERROR_TYPES[500] : ERROR_TYPES[400]);
  return { type: 'error', error: { type: b.errorType ?? type, message: b.errorMessage ?? message }, request_id: requestId };
}

interface MessagesInput {
  model: string;
  stream: boolean;
  maxTokens: number;
  lastUserText: string;
}

type Block = { type?: unknown; text?: unknown; id?: unknown; tool_use_id?: unknown };

/** The subset of the API's own validation that catches translation bugs (wire-formats.md §2.3). */
function validate(body: unknown): MessagesInput | string {
  if (typeof body !== 'object' || body === null) return 'Request body is not valid JSON';
  const r = body as Record<string, unknown>;
  if (typeof r.model !== 'string') return 'model: Field required';
  if (typeof r.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(r.messages) || r.messages.length === 0) return 'messages: at least one message is required';
  if (typeof r.temperature === 'number' && (r.temperature < 0 || r.temperature > 1)) return 'temperature: range: 0..1';
  const thinking = r.thinking as { type?: unknown; budget_tokens?: unknown } | undefined;
  if (thinking?.type === 'enabled' && (typeof thinking.budget_tokens !== 'number' || thinking.budget_tokens < 1024 || thinking.budget_tokens >= r.max_tokens)) {
    return 'thinking.budget_tokens: must be >= 1024 and less than max_tokens';
  }
  let pendingToolUses: string[] = [];
  let lastUserText = '';
  let lastAssistant: { index: number; blocks: Block[] } | undefined;
  for (let i = 0; i < r.messages.length; i++) {
    const m = r.messages[i] as { role?: unknown; content?: unknown };
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    const blocks: Block[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? (m.content as Block[]) : [];
    if (blocks.length === 0) return `messages.${i}: all messages must have non-empty content`;
    for (const bl of blocks) if (bl.type === 'text' && (typeof bl.text !== 'string' || bl.text.trim() === '')) return 'messages: text content blocks must be non-empty';
    if (pendingToolUses.length > 0) {
      const answered = new Set(blocks.filter((bl) => bl.type === 'tool_result').map((bl) => bl.tool_use_id));
      const missing = pendingToolUses.filter((id) => !answered.has(id));
      if (m.role !== 'user' || missing.length > 0) {
        return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}`;
      }
    }
    pendingToolUses = m.role === 'assistant' ? blocks.filter((bl) => bl.type === 'tool_use').map((bl) => String(bl.id)) : [];
    if (m.role === 'assistant') lastAssistant = { index: i, blocks };
    if (m.role === 'user') {
      const text = blocks.filter((bl) => bl.type === 'text').map((bl) => String(bl.text)).join('');
      if (text !== '') lastUserText = text;
    }
  }
  // With thinking on, a tool loop's last assistant turn must begin with its thinking (§2.6).
  const thinkingOn = thinking?.type === 'enabled' || thinking?.type === 'adaptive';
  if (thinkingOn && lastAssistant?.blocks.some((bl) => bl.type === 'tool_use') && !['thinking', 'redacted_thinking'].includes(String(lastAssistant.blocks[0]?.type))) {
    return `messages.${lastAssistant.index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(lastAssistant.blocks[0]?.type)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`;
  }
  return { model: r.model, stream: r.stream === true, maxTokens: r.max_tokens, lastUserText };
}

const STOP: Record<string, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' };

function stopReason(plan: ReplyPlan): string {
  if (plan.overridden) return plan.finish;
  return plan.stopSequence !== undefined && plan.finish === 'stop' ? 'stop_sequence' : (STOP[plan.finish] ?? 'end_turn');
}

function stopSequence(plan: ReplyPlan): string | null {
  return stopReason(plan) === 'stop_sequence' ? (plan.stopSequence ?? null) : null;
}

/** Anthropic input_tokens excludes cache reads and writes (wire-formats.md §2.8). */
function usage(plan: ReplyPlan, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: Math.max(0, plan.promptTokens - plan.cachedTokens - plan.cacheWriteTokens),
    cache_creation_input_tokens: plan.cacheWriteTokens,
    cache_read_input_tokens: plan.cachedTokens,
    cache_creation: { ephemeral_5m_input_tokens: plan.cacheWriteTokens - plan.cacheWrite1hTokens, ephemeral_1h_input_tokens: plan.cacheWrite1hTokens },
    output_tokens: outputTokens,
    ...(plan.reasoningTokens > 0 ? { output_tokens_details: { thinking_tokens: plan.reasoningTokens } } : {}),
    service_tier: 'standard',
  };
}

function signatureOf(b: FakeBehaviour): string {
  return b.signature ?? 'fake-signature';
}

function message(id: string, model: string, plan: ReplyPlan, b: FakeBehaviour): object {
  const content: object[] = [];
  if (plan.thinking !== '') content.push({ type: 'thinking', thinking: plan.thinking, signature: signatureOf(b) });
  if (plan.text !== '') content.push({ type: 'text', text: plan.text, citations: null });
  for (const t of plan.toolCalls) content.push({ type: 'tool_use', id: t.id, name: t.name, input: JSON.parse(t.arguments) });
  return { id, type: 'message', role: 'assistant', model, content, stop_reason: stopReason(plan), stop_sequence: stopSequence(plan), stop_details: null, usage: usage(plan, plan.completionTokens) };
}

function ev(type: string, data: object): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

function streamEvents(id: string, model: string, plan: ReplyPlan, b: FakeBehaviour): string[] {
  const events: string[] = [
    ev('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: usage(plan, 1) } }),
  ];
  if (b.pings) events.push(ev('ping', {}));
  let index = 0;
  if (plan.thinking !== '') {
    events.push(ev('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
    for (const t of plan.thinkingDeltas) events.push(ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: t } }));
    events.push(ev('content_block_delta', { index, delta: { type: 'signature_delta', signature: signatureOf(b) } }));
    events.push(ev('content_block_stop', { index }));
    index++;
  }
  if (plan.text !== '' || plan.toolCalls.length === 0) {
    events.push(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    for (const d of plan.deltas) events.push(ev('content_block_delta', { index, delta: { type: 'text_delta', text: d } }));
    events.push(ev('content_block_stop', { index }));
    index++;
  }
  for (const t of plan.toolCalls) {
    if (b.toolInputInStart) {
      events.push(ev('content_block_start', { index, content_block: { type: 'tool_use', id: t.id, name: t.name, input: JSON.parse(t.arguments) } }));
    } else {
      events.push(ev('content_block_start', { index, content_block: { type: 'tool_use', id: t.id, name: t.name, input: {} } }));
      // The real API opens with an empty fragment (wire-formats.md rule 3).
      events.push(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }));
      for (const frag of argumentFragments(t.arguments)) events.push(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: frag } }));
    }
    events.push(ev('content_block_stop', { index }));
    index++;
  }
  if (b.pings) events.push(ev('ping', {}));
  events.push(ev('message_delta', { delta: { stop_reason: stopReason(plan), stop_sequence: stopSequence(plan) }, usage: usage(plan, plan.completionTokens) }));
  events.push(ev('message_stop', {}));
  return inject(events, b, {
    defaultType: 'overloaded_error',
    errorEvent: (type, message) => ev('error', { error: { type, message } }),
    malformedEvent: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":\n\n',
  });
}
