import type { ChatRequest, ReasoningEffort } from '../../openai.types';
import type { BuildOptions } from '../../provider';
import { reasoningBudgetOf } from '../../reasoning-object';
import { clientParam, isParamSet, limitStop, reasoningIsPermission, rejectUnsupported, unsupportedParameter } from '../../unsupported-params';
import { convertMessages } from './gemini.contents';
import { toGeminiResponseJsonSchema } from './gemini.schema';
import { mapToolChoice, mapTools } from './gemini.tools';
import type { GeminiGenerationConfig, GeminiRequest, GeminiThinkingConfig, GeminiThinkingLevel } from './gemini.types';

/**
 * OpenAI request -> Gemini `generateContent` body (wire-formats.md §3.2, §3.3, §4.3, §4.7–4.9).
 * `user`, `store`, `metadata`, `service_tier` and the cache keys are hints with no Gemini field:
 * dropped silently. `image_url.detail` has only an approximate equivalent and is dropped too.
 */

/** OpenAI parameters with no Gemini equivalent (§4.9). */
export const GEMINI_UNSUPPORTED: ReadonlyArray<keyof ChatRequest> = [
  'logit_bias',
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

/** `stopSequences` takes at most 5 (wire-formats.md §3.3, §4.9: historical limit, unverified now). */
export const GEMINI_MAX_STOP_SEQUENCES = 5;

/** LiteLLM's budgets for Gemini 2.5 (litellm/constants.py); `minimal` is 512, Flash-Lite's lowest non-zero budget. */
const THINKING_BUDGET: Record<Exclude<ReasoningEffort, 'none'>, number> = {
  minimal: 512,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 8192,
  max: 16384,
};

export interface BuiltGeminiRequest {
  body: GeminiRequest;
  maxTokens?: number;
}

export function buildGeminiRequest(provider: string, req: ChatRequest, model: string, opts: BuildOptions): BuiltGeminiRequest {
  const policy = opts.unsupportedParams;
  rejectUnsupported(provider, req, GEMINI_UNSUPPORTED, policy);
  const { systemInstruction, contents } = convertMessages(provider, req.messages);
  const body: GeminiRequest = { contents };
  if (systemInstruction !== undefined) body.systemInstruction = systemInstruction;

  const tools = mapTools(provider, req.tools, policy);
  if (tools.length > 0) {
    body.tools = tools;
    const toolConfig = mapToolChoice(req.tool_choice);
    if (toolConfig !== undefined) body.toolConfig = toolConfig;
  }

  const config: GeminiGenerationConfig = {};
  const maxTokens = opts.maxTokens ?? req.max_completion_tokens ?? req.max_tokens ?? undefined;
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  if (typeof req.temperature === 'number') config.temperature = req.temperature;
  if (typeof req.top_p === 'number') config.topP = req.top_p;
  if (typeof req.top_k === 'number') config.topK = req.top_k;
  if (typeof req.seed === 'number') config.seed = req.seed;
  if (typeof req.presence_penalty === 'number') config.presencePenalty = req.presence_penalty;
  if (typeof req.frequency_penalty === 'number') config.frequencyPenalty = req.frequency_penalty;
  const stops = req.stop === undefined || req.stop === null ? [] : typeof req.stop === 'string' ? [req.stop] : req.stop;
  const stopSequences = limitStop(provider, req, stops.filter((s) => s !== ''), GEMINI_MAX_STOP_SEQUENCES, policy);
  if (stopSequences.length > 0) config.stopSequences = [...stopSequences];
  if (typeof req.n === 'number' && req.n !== 1) config.candidateCount = req.n;
  if (req.logprobs === true) {
    config.responseLogprobs = true;
    if (typeof req.top_logprobs === 'number' && req.top_logprobs > 0) config.logprobs = req.top_logprobs;
  }

  const format = req.response_format;
  if (format?.type === 'json_object') {
    config.responseMimeType = 'application/json';
  } else if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    if (format.json_schema.schema !== undefined) config.responseJsonSchema = toGeminiResponseJsonSchema(format.json_schema.schema);
  }

  const effort = req.reasoning_effort ?? undefined;
  if (effort !== undefined) {
    const thinking = thinkingConfig(model, effort);
    if (thinking === 'unsupported') {
      // Anthropic `thinking` is permission to think, which a model that does not think can ignore.
      if (policy === 'reject' && isParamSet('reasoning_effort', effort) && !reasoningIsPermission(req)) {
        throw unsupportedParameter(provider, clientParam(req, 'reasoning_effort'), `model ${model} does not think`);
      }
    } else if (thinking !== undefined) {
      // A model that takes a budget gets the client's own (`reasoning.max_tokens`) over the effort's.
      const budget = reasoningBudgetOf(req);
      config.thinkingConfig = budget !== undefined && thinking.thinkingBudget !== undefined && thinking.thinkingBudget > 0 ? { ...thinking, thinkingBudget: budgetInRange(model, budget) } : thinking;
    }
  }

  if (Object.keys(config).length > 0) body.generationConfig = config;
  return maxTokens === undefined ? { body } : { body, maxTokens };
}

/**
 * wire-formats.md §3.3, §4.7. Gemini 3 takes `thinkingLevel` (3 Pro: LOW or HIGH only, cannot be
 * turned off); 2.5 takes `thinkingBudget` (0 turns Flash off, Pro cannot be turned off); never
 * both. Models before 2.5 do not think. Unknown names (`gemini-flash-latest`) get a budget, which
 * Gemini 3 also accepts.
 */
export function thinkingConfig(model: string, effort: ReasoningEffort): GeminiThinkingConfig | 'unsupported' | undefined {
  const m = model.toLowerCase();
  const version = /gemini-(\d+)(?:\.(\d+))?/.exec(m);
  const major = version ? Number(version[1]) : undefined;
  const minor = version?.[2] !== undefined ? Number(version[2]) : 0;
  const pro = /-pro\b/.test(m);
  if (major !== undefined && (major < 2 || (major === 2 && minor < 5))) return effort === 'none' ? undefined : 'unsupported';
  if (major !== undefined && major >= 3) {
    let level: GeminiThinkingLevel;
    if (pro) level = effort === 'none' || effort === 'minimal' || effort === 'low' ? 'LOW' : 'HIGH';
    else level = effort === 'none' || effort === 'minimal' ? 'MINIMAL' : effort === 'low' ? 'LOW' : effort === 'medium' ? 'MEDIUM' : 'HIGH';
    return effort === 'none' ? { thinkingLevel: level } : { thinkingLevel: level, includeThoughts: true };
  }
  if (effort === 'none') return pro ? undefined : { thinkingBudget: 0 };
  return { thinkingBudget: THINKING_BUDGET[effort], includeThoughts: true };
}

/**
 * A 2.5 model's thinking budget held to the range it takes (Gemini refuses one outside it):
 * Pro 128 to 32,768, Flash-Lite 512 to 24,576, Flash (and names unknown here) up to 24,576.
 * https://ai.google.dev/gemini-api/docs/thinking
 */
function budgetInRange(model: string, budget: number): number {
  const m = model.toLowerCase();
  const [min, max] = m.includes('pro') ? [128, 32_768] : m.includes('flash-lite') ? [512, 24_576] : [1, 24_576];
  return Math.min(max, Math.max(min, budget));
}
