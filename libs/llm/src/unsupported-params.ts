import { DomainError, ErrorCode } from '@gw/core';
import type { ChatRequest } from './openai.types';
import type { BuildOptions } from './provider';
import { effortFromReasoningObject } from './reasoning-object';

/**
 * Values that mean "the default", so sending nothing is exactly equivalent. A provider that lacks
 * the parameter honours such a value anyway: it is dropped silently, never rejected.
 */
const NEUTRAL: Record<string, (v: unknown) => boolean> = {
  n: (v) => v === 1,
  logprobs: (v) => v === false,
  top_logprobs: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  frequency_penalty: (v) => v === 0,
  logit_bias: isEmptyObject,
  metadata: isEmptyObject,
  parallel_tool_calls: (v) => v === true,
  store: (v) => v === false,
  service_tier: (v) => v === 'auto',
  stop: (v) => Array.isArray(v) && v.length === 0,
  tools: (v) => Array.isArray(v) && v.length === 0,
  modalities: (v) => Array.isArray(v) && v.every((m) => m === 'text'),
  reasoning_effort: (v) => v === 'none',
  // The values that leave sampling as it is (OpenRouter's defaults).
  min_p: (v) => v === 0,
  top_a: (v) => v === 0,
  repetition_penalty: (v) => v === 1,
};

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

/** True when the client asked for something with this parameter (not absent, null or neutral). */
export function isParamSet(param: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  const neutral = NEUTRAL[param];
  return neutral === undefined || !neutral(value);
}

export function unsupportedParameter(provider: string, param: string, why?: string): DomainError {
  return new DomainError(
    ErrorCode.UnsupportedParameter,
    `Parameter '${param}' is not supported by provider ${provider}${why ? `: ${why}` : ''}`,
    { param, retryable: false, meta: { provider } },
  );
}

/**
 * The name the client gave a canonical parameter: itself, except for what `/v1/messages` maps
 * from Anthropic fields of another name (`ChatRequest.client_names`), so a refusal names the
 * field the client sent (`stop_sequences`, not `stop`).
 */
export function clientParam(req: object, param: string): string {
  const names = (req as Pick<ChatRequest, 'client_names'>).client_names;
  return names?.[param as keyof ChatRequest] ?? param;
}

/**
 * True when `reasoning_effort` stands for Anthropic `thinking` (`/v1/messages`) or OpenRouter's
 * `reasoning` object (`applyReasoningObject`): permission to think, not a demand for a control.
 * A provider or model without reasoning control drops it whatever the policy: the model thinks or
 * not on its own, Claude Code sends `thinking` whatever model it is pointed at, and OpenRouter
 * ignores `reasoning` on models that do not reason. An OpenAI client's own `reasoning_effort`
 * follows the policy.
 */
export function reasoningIsPermission(req: ChatRequest): boolean {
  return req.client_names?.reasoning_effort === 'thinking' || effortFromReasoningObject(req);
}

/** Under the `reject` policy, throws for the first unsupported parameter the client really set. */
export function rejectUnsupported(provider: string, req: object, params: readonly string[], policy: BuildOptions['unsupportedParams']): void {
  if (policy !== 'reject') return;
  const record = req as Record<string, unknown>;
  for (const p of params) if (isParamSet(p, record[p])) throw unsupportedParameter(provider, clientParam(req, p));
}

/**
 * `stop` held to a provider's limit on how many sequences it takes (OpenAI: 4): over it, refused
 * naming the client's field (policy `reject`), or cut to the first `max` (policy `drop`, the
 * parameter kept as far as the provider can honour it).
 */
export function limitStop(provider: string, req: ChatRequest, stops: readonly string[], max: number | undefined, policy: BuildOptions['unsupportedParams']): readonly string[] {
  if (max === undefined || stops.length <= max) return stops;
  if (policy === 'reject') throw unsupportedParameter(provider, clientParam(req, 'stop'), `at most ${max} stop sequences (got ${stops.length})`);
  return stops.slice(0, max);
}

/** Rejects (policy `reject`) or deletes the unsupported parameters of an outgoing body copy. */
export function stripUnsupported(
  provider: string,
  body: Record<string, unknown>,
  params: readonly string[],
  policy: BuildOptions['unsupportedParams'],
): void {
  rejectUnsupported(provider, body, params, policy);
  for (const p of params) if (body[p] !== undefined) delete body[p];
}
