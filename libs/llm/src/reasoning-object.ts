import type { ChatRequest, ReasoningEffort } from './openai.types';
import type { ReasoningConfig } from './router-request.types';

/**
 * A thinking budget in tokens -> an effort bucket (the gateway's choice, wire-formats.md §4.7:
 * <4k low, <16k medium, else high; only these three are portable across providers).
 */
export function effortForBudget(budget: number): ReasoningEffort {
  return budget < 4096 ? 'low' : budget < 16384 ? 'medium' : 'high';
}

/**
 * OpenRouter's `reasoning` object as the canonical `reasoning_effort`, the one field every adapter
 * reads: `enabled: false` is `none`; else `effort`; else the bucket of `max_tokens`; else
 * `enabled: true` is OpenRouter's default, medium. A `reasoning_effort` the client also sent wins.
 *
 * The effort is recorded in `client_names` as coming from the object: a refusal names the field the
 * client sent, and it is permission to think, as on OpenRouter, where a model that does not
 * reason ignores it (`reasoningIsPermission`). The object stays on the request for the adapters
 * that take a budget (`reasoningBudgetOf`) and the vendors that take the object itself.
 * Returns the request itself when there is nothing to map.
 */
export function applyReasoningObject(req: ChatRequest): ChatRequest {
  const r = req.reasoning;
  if (r === undefined || r === null || (req.reasoning_effort !== undefined && req.reasoning_effort !== null)) return req;
  const derived = effortOf(r);
  if (derived === undefined) return req;
  return { ...req, reasoning_effort: derived.effort, client_names: { ...req.client_names, reasoning_effort: derived.from } };
}

function effortOf(r: ReasoningConfig): { effort: ReasoningEffort; from: string } | undefined {
  if (r.enabled === false) return { effort: 'none', from: 'reasoning.enabled' };
  if (r.effort !== undefined) return { effort: r.effort, from: 'reasoning.effort' };
  // A zero budget is no thinking (Gemini's thinkingBudget: 0 turns it off).
  if (typeof r.max_tokens === 'number') return { effort: r.max_tokens === 0 ? 'none' : effortForBudget(r.max_tokens), from: 'reasoning.max_tokens' };
  if (r.enabled === true) return { effort: 'medium', from: 'reasoning.enabled' };
  return undefined;
}

/**
 * The thinking budget the client asked for (`reasoning.max_tokens`), for the adapters whose
 * provider takes one (Anthropic before 4.6, Gemini 2.5); the others use the effort bucket.
 */
export function reasoningBudgetOf(req: ChatRequest): number | undefined {
  const r = req.reasoning;
  return r !== undefined && r !== null && r.enabled !== false && typeof r.max_tokens === 'number' && r.max_tokens > 0 ? r.max_tokens : undefined;
}

/** The request's `reasoning_effort` is the one `applyReasoningObject` read from the reasoning object. */
export function effortFromReasoningObject(req: ChatRequest): boolean {
  return req.client_names?.reasoning_effort?.startsWith('reasoning.') === true;
}

/** The client asked for the answer without its reasoning (`reasoning.exclude`). */
export function reasoningExcluded(req: ChatRequest): boolean {
  return req.reasoning?.exclude === true;
}
