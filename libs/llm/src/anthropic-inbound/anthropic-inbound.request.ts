import type {
  AssistantMessage,
  ChatMessage,
  ChatRequest,
  FunctionTool,
  JsonObject,
  ReasoningDetail,
  ReasoningEffort,
  TextPart,
  ToolChoice,
  ToolMessage,
  UserContentPart,
} from '../openai.types';
import { ANTHROPIC_REASONING_FORMAT } from '../providers/anthropic';
import { isRecord } from '../upstream-errors';
import type { OutputEffort } from '../provider';
import { effortForBudget } from '../reasoning-object';
import { CARRIED_TEXT_FORMAT, unwrapForeignReasoning } from './anthropic-inbound.reasoning';
import { cacheControl, documentPart, imagePart, invalid, searchResultParts, stringField, textPart, unsupported } from './anthropic-inbound.parts';

/**
 * Anthropic Messages request (what @anthropic-ai/sdk and Claude Code send to `POST /v1/messages`)
 * -> the gateway's canonical OpenAI ChatRequest, which any adapter can serve (wire-formats.md §2.2–2.6,
 * §4.1–4.3 read right to left). Bad input is a DomainError InvalidBody naming the field in
 * Anthropic's dotted form (`messages.2.content.0.source`); features only Anthropic can execute
 * (server tools, MCP servers, containers) are UnsupportedParameter.
 *
 * Kept: system blocks and text `cache_control` (an OpenRouter-style hint the Anthropic adapter
 * honours and the others strip), tool `cache_control`, thinking signatures, `top_k` and the
 * `is_error` flag of tool results (gateway extensions of the canonical request, which each
 * adapter honours or refuses). Dropped: `context_management` (no canonical field),
 * `cache_control` on images and documents. Fields mapped to a canonical one of another name are
 * recorded in `client_names`, so a provider's refusal names the field the client sent.
 */
export function anthropicToChatRequest(body: unknown): ChatRequest {
  if (!isRecord(body)) throw invalid('body', 'The request body must be a JSON object');
  const model = body.model;
  if (typeof model !== 'string' || model.trim() === '') throw invalid('model', 'model: Field required');
  const maxTokens = body.max_tokens;
  if (maxTokens === undefined) throw invalid('max_tokens', 'max_tokens: Field required');
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) throw invalid('max_tokens', 'max_tokens: must be an integer >= 1');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages', 'messages: at least one message is required');

  const messages: ChatMessage[] = [];
  const system = systemMessage(body.system);
  if (system !== undefined) messages.push(system);
  body.messages.forEach((m, i) => convertMessage(m, i, messages));

  // Anthropic's max_tokens includes thinking, like OpenAI's max_completion_tokens.
  const names: NonNullable<ChatRequest['client_names']> = { max_completion_tokens: 'max_tokens' };
  const req: ChatRequest = { model, messages, max_completion_tokens: maxTokens, client_names: names };
  if (body.stream !== undefined) {
    if (typeof body.stream !== 'boolean') throw invalid('stream', 'stream: must be a boolean');
    if (body.stream) req.stream = true;
  }
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((s) => typeof s === 'string')) throw invalid('stop_sequences', 'stop_sequences: must be an array of strings');
    if (body.stop_sequences.length > 0) {
      req.stop = body.stop_sequences as string[];
      names.stop = 'stop_sequences';
    }
  }
  const temperature = optionalNumber(body.temperature, 'temperature', 0, 1);
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optionalNumber(body.top_p, 'top_p', 0, 1);
  if (topP !== undefined) req.top_p = topP;
  const topK = optionalNumber(body.top_k, 'top_k', 0, Number.MAX_SAFE_INTEGER);
  if (topK !== undefined) {
    if (!Number.isInteger(topK)) throw invalid('top_k', 'top_k: must be an integer');
    req.top_k = topK;
  }

  const tools = convertTools(body.tools);
  if (tools.length > 0) req.tools = tools;
  const choice = convertToolChoice(body.tool_choice);
  if (choice.choice !== undefined) req.tool_choice = choice.choice;
  if (choice.parallel === false) {
    req.parallel_tool_calls = false;
    names.parallel_tool_calls = 'tool_choice.disable_parallel_tool_use';
  }

  const effort = reasoningEffort(body.thinking, body.output_config);
  if (effort !== undefined) {
    req.reasoning_effort = effort;
    // Also the mark that this effort is permission to think, not a demand (reasoningIsPermission).
    names.reasoning_effort = 'thinking';
  }
  const format = isRecord(body.output_config) ? body.output_config.format : undefined;
  if (format !== undefined && format !== null) {
    if (!isRecord(format) || format.type !== 'json_schema' || !isRecord(format.schema)) throw invalid('output_config.format', 'output_config.format: expected {type:"json_schema", schema}');
    req.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema as JsonObject, strict: true } };
    names.response_format = 'output_config.format';
  }

  if (body.metadata !== undefined && body.metadata !== null) {
    if (!isRecord(body.metadata)) throw invalid('metadata', 'metadata: must be an object');
    const userId = body.metadata.user_id;
    if (typeof userId === 'string' && userId !== '') {
      req.user = userId;
      names.user = 'metadata.user_id';
    }
  }
  if (body.service_tier === 'auto') req.service_tier = 'auto';
  else if (body.service_tier === 'standard_only') req.service_tier = 'default';

  for (const field of ['mcp_servers', 'container'] as const) {
    const v = body[field];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) throw unsupported(field, `${field} runs on Anthropic's servers and cannot be routed`);
  }
  return req;
}

/**
 * `POST /v1/messages/count_tokens`: the Messages fields that make up the prompt (model, system,
 * messages, tools, tool_choice, thinking; no `max_tokens`) -> the canonical request whose prompt
 * is counted, validated like a Messages request.
 */
export function anthropicCountTokensRequest(body: unknown): ChatRequest {
  if (!isRecord(body)) throw invalid('body', 'The request body must be a JSON object');
  const { max_tokens: _max, stream: _stream, ...prompt } = body;
  // The cap plays no part in a count; any valid one lets the Messages validation run unchanged.
  return anthropicToChatRequest({ ...prompt, max_tokens: 1 });
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

function systemMessage(system: unknown): ChatMessage | undefined {
  if (system === undefined || system === null) return undefined;
  if (typeof system === 'string') return system.trim() === '' ? undefined : { role: 'system', content: system };
  if (!Array.isArray(system)) throw invalid('system', 'system: must be a string or an array of text blocks');
  const parts = system.map((b, j) => textPart(b, `system.${j}`));
  return parts.length === 0 ? undefined : { role: 'system', content: parts };
}

function convertMessage(raw: unknown, i: number, out: ChatMessage[]): void {
  const where = `messages.${i}`;
  if (!isRecord(raw)) throw invalid(where, `${where}: must be an object`);
  const role = raw.role;
  const content = raw.content;
  if (typeof content !== 'string' && !Array.isArray(content)) throw invalid(`${where}.content`, `${where}.content: must be a string or an array of content blocks`);
  if (role === 'system') {
    // A mid-conversation system message (SDK 1.x union); canonical messages allow system anywhere.
    const parts = typeof content === 'string' ? [{ type: 'text' as const, text: content }] : content.map((b, j) => textPart(b, `${where}.content.${j}`));
    out.push({ role: 'system', content: parts });
  } else if (role === 'user') {
    userMessages(content, where, out);
  } else if (role === 'assistant') {
    const m = assistantMessage(content, where);
    if (m !== undefined) out.push(m);
  } else {
    throw invalid(`${where}.role`, `${where}.role: Input should be 'user' or 'assistant'`);
  }
}

/**
 * One Anthropic user turn -> tool messages (one per tool_result, first, as OpenAI requires them
 * right after the assistant turn) + one user message with everything else. OpenAI tool content is
 * text only, so images inside tool results move into that user message (wire-formats.md §4.2).
 */
function userMessages(content: string | unknown[], where: string, out: ChatMessage[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'user', content });
    return;
  }
  const tools: ToolMessage[] = [];
  const moved: UserContentPart[] = [];
  const parts: UserContentPart[] = [];
  content.forEach((b, j) => {
    const at = `${where}.content.${j}`;
    if (!isRecord(b)) throw invalid(at, `${at}: must be a content block`);
    switch (b.type) {
      case 'text':
        parts.push(textPart(b, at));
        break;
      case 'image':
        parts.push(imagePart(b, at));
        break;
      case 'document':
        parts.push(documentPart(b, at));
        break;
      case 'tool_result':
        tools.push(toolMessage(b, at, moved));
        break;
      case 'search_result':
        parts.push(...searchResultParts(b, at));
        break;
      case 'tool_use':
      case 'thinking':
      case 'redacted_thinking':
        throw invalid(`${at}.type`, `${at}: '${b.type}' blocks belong to assistant messages`);
      default:
        throw unsupported(`${at}.type`, `content block type '${String(b.type)}'`);
    }
  });
  out.push(...tools);
  const rest = [...moved, ...parts];
  if (rest.length > 0) out.push({ role: 'user', content: rest });
}

function toolMessage(b: Record<string, unknown>, at: string, moved: UserContentPart[]): ToolMessage {
  if (typeof b.tool_use_id !== 'string' || b.tool_use_id === '') throw invalid(`${at}.tool_use_id`, `${at}.tool_use_id: Field required`);
  const texts: TextPart[] = [];
  const c = b.content;
  if (typeof c === 'string') {
    if (c !== '') texts.push({ type: 'text', text: c });
  } else if (Array.isArray(c)) {
    c.forEach((inner, k) => {
      const where = `${at}.content.${k}`;
      if (!isRecord(inner)) throw invalid(where, `${where}: must be a content block`);
      if (inner.type === 'text') texts.push({ type: 'text', text: stringField(inner, 'text', where) });
      else if (inner.type === 'image') moved.push(imagePart(inner, where));
      else if (inner.type === 'document') moved.push(documentPart(inner, where));
      else if (inner.type === 'search_result') texts.push(...searchResultParts(inner, where));
      else throw unsupported(`${where}.type`, `tool_result content block type '${String(inner.type)}'`);
    });
  } else if (c !== undefined && c !== null) {
    throw invalid(`${at}.content`, `${at}.content: must be a string or an array of content blocks`);
  }
  const cache = cacheControl(b.cache_control);
  if (cache !== undefined) {
    if (texts.length === 0) texts.push({ type: 'text', text: '' });
    texts[texts.length - 1] = { ...texts[texts.length - 1], cache_control: cache };
  }
  const content = texts.length === 1 && texts[0].cache_control === undefined ? texts[0].text : texts.length === 0 ? '' : texts;
  const m: ToolMessage = { role: 'tool', tool_call_id: b.tool_use_id, content };
  // Kept as a flag: each adapter says it its provider's way (Gemini's `{"error": ...}`).
  if (b.is_error === true) m.is_error = true;
  return m;
}

function assistantMessage(content: string | unknown[], where: string): AssistantMessage | undefined {
  if (typeof content === 'string') return content === '' ? undefined : { role: 'assistant', content };
  const texts: TextPart[] = [];
  const calls: NonNullable<AssistantMessage['tool_calls']> = [];
  const details: ReasoningDetail[] = [];
  /** A provider's own reasoning text the gateway gave the client to carry (anthropic-inbound.reasoning.ts). */
  let reasoning = '';
  content.forEach((b, j) => {
    const at = `${where}.content.${j}`;
    if (!isRecord(b)) throw invalid(at, `${at}: must be a content block`);
    switch (b.type) {
      case 'text': {
        const part = textPart(b, at);
        if (part.text !== '') texts.push(part);
        break;
      }
      case 'tool_use': {
        const id = stringField(b, 'id', at);
        const name = stringField(b, 'name', at);
        const input = b.input ?? {};
        if (!isRecord(input)) throw invalid(`${at}.input`, `${at}.input: must be an object`);
        calls.push({ id, type: 'function', function: { name, arguments: JSON.stringify(input) } });
        break;
      }
      case 'thinking':
        details.push({ type: 'reasoning.text', text: stringField(b, 'thinking', at, true), signature: stringField(b, 'signature', at, true), format: ANTHROPIC_REASONING_FORMAT, index: details.length });
        break;
      case 'redacted_thinking': {
        const data = stringField(b, 'data', at);
        const foreign = unwrapForeignReasoning(data);
        if (foreign?.type === 'reasoning.text' && foreign.format === CARRIED_TEXT_FORMAT) reasoning += foreign.text ?? '';
        else details.push(foreign ?? { type: 'reasoning.encrypted', data, format: ANTHROPIC_REASONING_FORMAT, index: details.length });
        break;
      }
      default:
        throw unsupported(`${at}.type`, `assistant content block type '${String(b.type)}'`);
    }
  });
  if (texts.length === 0 && calls.length === 0) return undefined;
  const m: AssistantMessage = { role: 'assistant', content: texts.length === 0 ? null : texts.length === 1 && texts[0].cache_control === undefined ? texts[0].text : texts };
  if (calls.length > 0) m.tool_calls = calls;
  if (reasoning !== '') m.reasoning = reasoning;
  if (details.length > 0) m.reasoning_details = details;
  return m;
}

// ---------------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Tools and reasoning
// ---------------------------------------------------------------------------------------------

function convertTools(tools: unknown): FunctionTool[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalid('tools', 'tools: must be an array');
  return tools.map((t, i) => {
    const at = `tools.${i}`;
    if (!isRecord(t)) throw invalid(at, `${at}: must be an object`);
    // Server tools (web_search_*, bash_*, text_editor_*, code_execution_*) run inside Anthropic.
    if (t.type !== undefined && t.type !== null && t.type !== 'custom') throw unsupported(`${at}.type`, `server tool '${String(t.type)}'`);
    const name = stringField(t, 'name', at);
    const schema = t.input_schema;
    if (!isRecord(schema)) throw invalid(`${at}.input_schema`, `${at}.input_schema: Field required`);
    const tool: FunctionTool = { type: 'function', function: { name, parameters: schema as JsonObject } };
    if (typeof t.description === 'string' && t.description !== '') tool.function.description = t.description;
    if (t.strict === true) tool.function.strict = true;
    const cache = cacheControl(t.cache_control);
    if (cache !== undefined) tool.cache_control = cache;
    return tool;
  });
}

function convertToolChoice(v: unknown): { choice?: ToolChoice; parallel?: boolean } {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw invalid('tool_choice', 'tool_choice: must be an object');
  const parallel = v.disable_parallel_tool_use === true ? { parallel: false } : {};
  switch (v.type) {
    case 'auto':
      return { choice: 'auto', ...parallel };
    case 'any':
      return { choice: 'required', ...parallel };
    case 'none':
      return { choice: 'none' };
    case 'tool':
      return { choice: { type: 'function', function: { name: stringField(v, 'name', 'tool_choice') } }, ...parallel };
    default:
      throw invalid('tool_choice.type', "tool_choice.type: expected 'auto', 'any', 'tool' or 'none'");
  }
}

// `thinking.budget_tokens` becomes an effort bucket (effortForBudget); adaptive thinking takes
// `output_config.effort`, medium when absent.

const EFFORTS = new Set(['low', 'medium', 'high', 'xhigh', 'max']);

function reasoningEffort(thinking: unknown, outputConfig: unknown): ReasoningEffort | undefined {
  const declared = isRecord(outputConfig) && typeof outputConfig.effort === 'string' ? outputConfig.effort : undefined;
  if (declared !== undefined && !EFFORTS.has(declared)) throw invalid('output_config.effort', 'output_config.effort: expected low, medium, high, xhigh or max');
  const effort = declared as ReasoningEffort | undefined;
  // Effort without thinking is Anthropic's effort alone (effortWithoutThinking), not a reason to think.
  if (thinking === undefined || thinking === null) return undefined;
  if (!isRecord(thinking)) throw invalid('thinking', 'thinking: must be an object');
  switch (thinking.type) {
    case 'enabled': {
      const budget = thinking.budget_tokens;
      if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1024) throw invalid('thinking.budget_tokens', 'thinking.budget_tokens: must be an integer >= 1024');
      return effortForBudget(budget);
    }
    case 'adaptive':
      return effort ?? 'medium';
    case 'disabled':
      return undefined;
    default:
      throw invalid('thinking.type', "thinking.type: expected 'enabled', 'adaptive' or 'disabled'");
  }
}

/**
 * `output_config.effort` asked without thinking (absent or disabled): how much the model may spend
 * on its answer, which turns no thinking on. Passed to Anthropic upstreams as it came
 * (`BuildOptions.outputEffort`); other providers have no equivalent without reasoning, so they get
 * nothing. Call after `anthropicToChatRequest` (which validates the value).
 */
export function effortWithoutThinking(body: unknown): OutputEffort | undefined {
  if (!isRecord(body) || !isRecord(body.output_config) || typeof body.output_config.effort !== 'string') return undefined;
  const thinking = body.thinking;
  if (thinking !== undefined && thinking !== null && !(isRecord(thinking) && thinking.type === 'disabled')) return undefined;
  return EFFORTS.has(body.output_config.effort) ? (body.output_config.effort as OutputEffort) : undefined;
}

// ---------------------------------------------------------------------------------------------

function optionalNumber(v: unknown, param: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalid(param, `${param}: must be a number in [${min}, ${max}]`);
  return v;
}
