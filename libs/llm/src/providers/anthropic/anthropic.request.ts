import type { ChatRequest, ReasoningEffort, Tool, ToolChoice } from '../../openai.types';
import type { BuildOptions, OutputEffort } from '../../provider';
import { reasoningBudgetOf } from '../../reasoning-object';
import { clientParam, isParamSet, reasoningIsPermission, rejectUnsupported, unsupportedParameter } from '../../unsupported-params';
import { convertMessages } from './anthropic.messages';
import type { AnthropicMessage, AnthropicRequest, AnthropicTool, AnthropicToolChoice } from './anthropic.types';

/**
 * OpenAI request -> Anthropic Messages request body (wire-formats.md §2.2, §4.3, §4.7–4.9), for
 * the `2023-06-01` API version. The rules that depend on the model follow its generation, read
 * from the model id (`claudeGeneration`): 4.6+ think adaptively with an effort, 4.7+ and Claude
 * 5 take no sampling parameters. An id the gateway cannot read gets the classic rules.
 */

/** OpenAI parameters with no Anthropic equivalent (§4.9). */
export const ANTHROPIC_UNSUPPORTED: ReadonlyArray<keyof ChatRequest> = [
  'n',
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'audio',
  'modalities',
  'prediction',
  'web_search_options',
  'verbosity',
  'functions',
  'function_call',
  'min_p',
  'top_a',
  'repetition_penalty',
];

/** Used when neither the gateway nor the client gave a cap; Anthropic requires one. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Anthropic's smallest `budget_tokens`. */
const MIN_THINKING_BUDGET = 1024;

/** LiteLLM's effort -> budget table (litellm/constants.py); 1024 is Anthropic's minimum budget. */
const THINKING_BUDGET: Record<Exclude<ReasoningEffort, 'none'>, number> = {
  minimal: 1024,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 8192,
  max: 16384,
};

/** The effort Anthropic's adaptive thinking takes for an OpenAI reasoning_effort. */
const ADAPTIVE_EFFORT: Record<Exclude<ReasoningEffort, 'none'>, OutputEffort> = {
  minimal: 'low',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'xhigh',
  max: 'max',
};

/**
 * A Claude model's generation as major * 100 + minor, from ids like `claude-opus-4-8`,
 * `claude-sonnet-4-5-20250929`, `claude-3-7-sonnet-latest`, `claude-sonnet-5`; undefined for an
 * id that does not say (a deployment alias).
 */
export function claudeGeneration(model: string): number | undefined {
  const m = /claude-(?:[a-z]+-)?(\d+)(?:[-.](\d{1,2})(?!\d))?/.exec(model);
  return m ? Number(m[1]) * 100 + (m[2] ? Number(m[2]) : 0) : undefined;
}

/**
 * With thinking on, Anthropic refuses (400, not retryable) a tool loop whose last assistant turn
 * does not begin with its thinking block (wire-formats.md §2.6). A history loses that block when
 * the client did not echo `reasoning_details`, or when another provider answered that turn (a
 * fallback): such a request is sent without thinking, as LiteLLM does, rather than refused.
 */
function lostThinkingBlock(messages: readonly AnthropicMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== 'assistant') continue;
    if (!m.content.some((b) => b.type === 'tool_use')) return false;
    const first = m.content[0]?.type;
    return first !== 'thinking' && first !== 'redacted_thinking';
  }
  return false;
}

export interface BuiltAnthropicRequest {
  body: AnthropicRequest;
  maxTokens: number;
}

export function buildAnthropicRequest(provider: string, req: ChatRequest, model: string, opts: BuildOptions): BuiltAnthropicRequest {
  const policy = opts.unsupportedParams;
  rejectUnsupported(provider, req, ANTHROPIC_UNSUPPORTED, policy);
  const { system, messages } = convertMessages(provider, req.messages);

  let maxTokens = opts.maxTokens ?? req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS;
  const body: AnthropicRequest = { model, max_tokens: maxTokens, messages };
  if (system.length > 0) body.system = system;

  const generation = claudeGeneration(model);
  const effort = req.reasoning_effort;
  // Thinking given as permission (OpenRouter's reasoning object, /v1/messages) yields to what the
  // request asks that Anthropic cannot combine with it: a sampling setting or a forced tool.
  const thinking = effort !== undefined && effort !== null && effort !== 'none' && !lostThinkingBlock(messages) && !(reasoningIsPermission(req) && conflictsWithThinking(req));
  if (thinking && generation !== undefined && generation >= 406) {
    // 4.6 deprecates budgets, Opus 4.7+ and Claude 5 refuse them (wire-formats.md rule 7).
    body.thinking = { type: 'adaptive' };
    body.output_config = { effort: ADAPTIVE_EFFORT[effort] };
  } else if (thinking) {
    // The client's own budget (`reasoning.max_tokens`) where it gave one, raised to Anthropic's
    // minimum; at or over the output cap, held under it (budget_tokens < max_tokens): raising
    // max_tokens past the model's maximum would be refused.
    const asked = reasoningBudgetOf(req);
    let budget = Math.max(MIN_THINKING_BUDGET, asked ?? THINKING_BUDGET[effort]);
    if (asked !== undefined && budget >= maxTokens && maxTokens > MIN_THINKING_BUDGET) budget = maxTokens - 1;
    // budget_tokens must be < max_tokens and thinking counts toward max_tokens: keep the asked-for
    // answer room on top of the budget.
    if (maxTokens <= budget) maxTokens += budget;
    body.max_tokens = maxTokens;
    body.thinking = { type: 'enabled', budget_tokens: budget };
  }

  // Effort alone (asked on /v1/messages without thinking): passed as it came, thinking stays off,
  // to the generations that take it (as adaptive thinking's effort above); older ones get nothing.
  if (!thinking && opts.outputEffort !== undefined && generation !== undefined && generation >= 406) {
    body.output_config = { ...body.output_config, effort: opts.outputEffort };
  }

  const stops = req.stop === undefined || req.stop === null ? [] : typeof req.stop === 'string' ? [req.stop] : req.stop;
  // "All non-whitespace stop sequences work" (Anthropic's OpenAI-compat page); whitespace ones 400.
  const stopSequences = stops.filter((s) => s.trim() !== '');
  if (stopSequences.length > 0) body.stop_sequences = stopSequences;

  const sampling = samplingParams(provider, req, thinking, generation !== undefined && generation >= 407 ? model : undefined, policy);
  if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
  if (sampling.top_p !== undefined) body.top_p = sampling.top_p;
  if (sampling.top_k !== undefined) body.top_k = sampling.top_k;

  const tools = mapTools(provider, req.tools, policy);
  if (tools.length > 0) {
    body.tools = tools;
    const choice = mapToolChoice(provider, req.tool_choice, req.parallel_tool_calls, thinking ? clientParam(req, 'reasoning_effort') : undefined, policy);
    if (choice.allowed !== undefined) body.tools = tools.filter((t) => choice.allowed?.has(t.name));
    if (choice.choice !== undefined) body.tool_choice = choice.choice;
  }

  const format = req.response_format;
  if (format?.type === 'json_schema') {
    body.output_config = { ...body.output_config, format: { type: 'json_schema', schema: format.json_schema.schema ?? { type: 'object' } } };
  } else if (format?.type === 'json_object' && policy === 'reject') {
    throw unsupportedParameter(provider, 'response_format', 'json_object has no Anthropic equivalent; use json_schema');
  }

  const userId = req.user ?? req.safety_identifier ?? undefined;
  if (userId) body.metadata = { user_id: userId };

  const tier = req.service_tier;
  if (tier === 'default') body.service_tier = 'standard_only';
  else if (tier === 'auto') body.service_tier = 'auto';
  else if (isParamSet('service_tier', tier) && policy === 'reject') throw unsupportedParameter(provider, 'service_tier');

  if (opts.stream) body.stream = true;
  return { body, maxTokens };
}

/** `noSamplingModel`: a model that refuses temperature and top_p outright (Opus 4.7+, Claude 5). */
function samplingParams(
  provider: string,
  req: ChatRequest,
  thinking: boolean,
  noSamplingModel: string | undefined,
  policy: BuildOptions['unsupportedParams'],
): { temperature?: number; top_p?: number; top_k?: number } {
  let temperature = req.temperature ?? undefined;
  let top_p = req.top_p ?? undefined;
  const top_k = req.top_k ?? undefined;
  if (noSamplingModel !== undefined) {
    // 1 is the default of temperature and top_p: asking for it changes nothing, so it is dropped
    // silently. top_k has no neutral value.
    if (policy === 'reject') {
      if (temperature !== undefined && temperature !== 1) throw unsupportedParameter(provider, 'temperature', `${noSamplingModel} accepts no sampling parameters`);
      if (top_p !== undefined && top_p !== 1) throw unsupportedParameter(provider, 'top_p', `${noSamplingModel} accepts no sampling parameters`);
      if (top_k !== undefined) throw unsupportedParameter(provider, 'top_k', `${noSamplingModel} accepts no sampling parameters`);
    }
    return {};
  }
  if (thinking) {
    // "Thinking isn't compatible with temperature or top_k modifications" (extended-thinking docs).
    const why = `cannot be combined with ${clientParam(req, 'reasoning_effort')}`;
    if (policy === 'reject' && temperature !== undefined && temperature !== 1) throw unsupportedParameter(provider, 'temperature', why);
    if (policy === 'reject' && top_k !== undefined) throw unsupportedParameter(provider, 'top_k', why);
    return {};
  }
  // Anthropic's range is 0..1; its own OpenAI-compat layer caps higher values at 1.
  if (temperature !== undefined) temperature = Math.min(Math.max(temperature, 0), 1);
  // Claude 4.5+ refuse temperature and top_p together (BerriAI/litellm#15097): keep temperature.
  if (temperature !== undefined && top_p !== undefined) top_p = undefined;
  return { temperature, top_p, top_k };
}

function mapTools(provider: string, tools: Tool[] | undefined, policy: BuildOptions['unsupportedParams']): AnthropicTool[] {
  const out: AnthropicTool[] = [];
  for (const t of tools ?? []) {
    if (t.type !== 'function') {
      if (policy === 'reject') throw unsupportedParameter(provider, 'tools', `tool type '${t.type}'`);
      continue;
    }
    const f = t.function;
    const tool: AnthropicTool = { name: f.name, input_schema: f.parameters ?? { type: 'object', properties: {} } };
    if (f.description) tool.description = f.description;
    if (f.strict === true) tool.strict = true;
    if (t.cache_control) tool.cache_control = t.cache_control;
    out.push(tool);
  }
  return out;
}

interface MappedChoice {
  choice?: AnthropicToolChoice;
  /** `allowed_tools`: the subset of tools the model may use. */
  allowed?: Set<string>;
}

function mapToolChoice(
  provider: string,
  choice: ToolChoice | undefined,
  parallel: boolean | undefined,
  /** With thinking on: the client's name for what turned it on. */
  thinking: string | undefined,
  policy: BuildOptions['unsupportedParams'],
): MappedChoice {
  let out: MappedChoice = {};
  if (choice === 'auto') out = { choice: { type: 'auto' } };
  else if (choice === 'none') out = { choice: { type: 'none' } };
  else if (choice === 'required') out = { choice: { type: 'any' } };
  else if (choice !== undefined && choice.type === 'function') out = { choice: { type: 'tool', name: choice.function.name } };
  else if (choice !== undefined && choice.type === 'allowed_tools') {
    const names = new Set<string>();
    for (const t of choice.allowed_tools.tools) {
      const fn = t.function;
      if (typeof fn === 'object' && fn !== null && !Array.isArray(fn) && typeof fn.name === 'string') names.add(fn.name);
    }
    out = { choice: { type: choice.allowed_tools.mode === 'required' ? 'any' : 'auto' }, allowed: names };
  }

  const forced = out.choice?.type === 'any' || out.choice?.type === 'tool';
  if (thinking !== undefined && forced) {
    // "Thinking may not be enabled when tool_choice forces tool use" (mastra-ai/mastra#7507).
    if (policy === 'reject') throw unsupportedParameter(provider, 'tool_choice', `a forced tool cannot be combined with ${thinking}`);
    out.choice = { type: 'auto' };
  }
  if (parallel === false) {
    // `none` takes no parallel flag; with no choice given, Anthropic's default is `auto`.
    const c = out.choice ?? { type: 'auto' };
    if (c.type !== 'none') out.choice = { ...c, disable_parallel_tool_use: true };
  }
  return out;
}

/** What Anthropic refuses alongside thinking: temperature other than 1, top_k, a forced tool. */
function conflictsWithThinking(req: ChatRequest): boolean {
  const tc = req.tool_choice as unknown;
  const forced = tc === 'required' || (typeof tc === 'object' && tc !== null && ((tc as { type?: string }).type === 'function' || (tc as { allowed_tools?: { mode?: string } }).allowed_tools?.mode === 'required'));
  return (req.temperature !== undefined && req.temperature !== null && req.temperature !== 1) || (req.top_k !== undefined && req.top_k !== null) || forced;
}
