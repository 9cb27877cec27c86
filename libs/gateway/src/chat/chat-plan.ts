import type { ChatRequest } from '@gw/llm';
import type { ModelPrice } from '@gw/metering';
import type { KeyInfo } from '../auth/key-cache';
import type { CatalogEntry } from '../catalog/catalog-cache';
import type { PlatformEndpoint } from '../upstream/provider-endpoints';

export interface Candidate {
  model: CatalogEntry;
  endpoint: PlatformEndpoint;
}

/** `allowed_models` entries are exact names or prefixes ending in `*` (`anthropic/*`). */
export function modelAllowed(key: KeyInfo, model: string): boolean {
  if (key.allowedModels.length === 0) return true;
  return key.allowedModels.some((p) => (p.endsWith('*') ? model.startsWith(p.slice(0, -1)) : p === model));
}

/**
 * How much larger than the local count a provider's own count of a prompt may be (other
 * tokenizers, message framing, images): the default output cap leaves this much room.
 */
export const PROMPT_COUNT_MARGIN = 1.1;
/**
 * A counted prompt is refused before the call only when it exceeds the context by more than
 * this: some tokenizers (DeepSeek's, Qwen's on Chinese) count a little lower than o200k, and a
 * prompt near the context is left to the provider, which has the exact count.
 */
export const CONTEXT_REFUSAL_MARGIN = 1.05;
/**
 * A prompt bound up to this share of a model's context lowers the default output cap by itself,
 * without a count: giving up an eighth of the output is cheaper than counting every request to
 * a model whose maximum output is its whole context.
 */
const COUNT_ABOVE_SHARE = 1 / 8;

/**
 * Output cap of one attempt: the request's, else the model's maximum (required by some
 * providers). Without a cap from the client, the default is lowered so that the prompt
 * (`promptTokens`: its byte bound, or its count when the bound was too coarse) plus the output
 * fits the model's context: a provider refuses a request whose prompt plus max_tokens exceeds
 * it, where a direct call without max_tokens would have been served. A cap the client set is theirs.
 */
export function maxOutputOf(req: ChatRequest, model: CatalogEntry, promptTokens?: number): number {
  const asked = clientCapOf(req);
  if (asked !== undefined) return Math.min(asked, model.maxOutputTokens);
  if (promptTokens === undefined || Math.ceil(promptTokens * PROMPT_COUNT_MARGIN) + model.maxOutputTokens <= model.contextLength) return model.maxOutputTokens;
  let room = model.contextLength - Math.ceil(promptTokens * PROMPT_COUNT_MARGIN);
  // Within the margin of the context: whatever the count leaves (the provider has the last word).
  if (room < 1) room = model.contextLength - promptTokens;
  return Math.max(1, Math.min(model.maxOutputTokens, room));
}

/** The output cap the client set (`max_completion_tokens`, else `max_tokens`), if any. */
function clientCapOf(req: ChatRequest): number | undefined {
  return req.max_completion_tokens ?? req.max_tokens ?? undefined;
}

/**
 * Whether the prompt must be counted, given its byte bound (at most one token per byte, one
 * choice): only when some candidate might refuse it outright, or when the bound alone would
 * lower that candidate's default output cap by more than an eighth of its context.
 */
export function needsPromptCount(req: ChatRequest, promptBound: number, candidates: readonly { model: CatalogEntry }[]): boolean {
  const clientCap = clientCapOf(req) !== undefined;
  for (const { model: m } of candidates) {
    if (promptBound > m.contextLength * CONTEXT_REFUSAL_MARGIN) return true;
    if (!clientCap && promptBound > m.contextLength * COUNT_ABOVE_SHARE && Math.ceil(promptBound * PROMPT_COUNT_MARGIN) + m.maxOutputTokens > m.contextLength) return true;
  }
  return false;
}

/** Whether a counted prompt is over a model's context by more than any tokenizer difference explains. */
export function exceedsContext(promptTokens: number, model: CatalogEntry): boolean {
  return promptTokens > model.contextLength * CONTEXT_REFUSAL_MARGIN;
}

/** Where counting can stop: past it, every candidate refuses the prompt. */
export function countLimitOf(candidates: readonly { model: CatalogEntry }[]): number {
  let max = 0;
  for (const { model: m } of candidates) max = Math.max(max, Math.ceil(m.contextLength * CONTEXT_REFUSAL_MARGIN));
  return max;
}

type Part = { type?: string; cache_control?: { ttl?: string } } | null;

/**
 * What the hold needs to know about a request's content, in one pass over its parts: the images
 * (billed by size, not bytes) and whether anything is marked for Anthropic's hour-long cache
 * (`cache_control` with `ttl: "1h"`, which the adapter honours on text parts and tools). Only
 * then can the provider report hour-long cache writes, so only then does the hold price prompt
 * tokens at their rate.
 */
export function promptContentOf(req: ChatRequest): { images: number; hourLongCache: boolean } {
  let images = 0;
  let hourLongCache = false;
  for (const m of req.messages) {
    const c = (m as { content?: unknown }).content;
    if (!Array.isArray(c)) continue;
    for (const p of c as Part[]) {
      if (p?.type === 'image_url') images++;
      else if (p?.cache_control?.ttl === '1h') hourLongCache = true;
    }
  }
  if (!hourLongCache) for (const t of req.tools ?? []) if ((t as Part)?.cache_control?.ttl === '1h') hourLongCache = true;
  return { images, hourLongCache };
}

/** The price a hold is computed with: without the hour-long write rate when the request cannot incur it. */
export function holdPriceOf(price: ModelPrice, hourLongCache: boolean): ModelPrice {
  return hourLongCache || price.cacheWrite1h == null ? price : { ...price, cacheWrite1h: null };
}

/**
 * The client's Anthropic beta flags as sent on the platform's key: without the long-context ones
 * (`context-1m-*`), which Anthropic bills at a premium over 200k prompt tokens while the catalog
 * prices the model at its standard rate. A tenant's own key takes them all (its bill, its rates).
 */
export function platformBetasOf(betas: string | undefined): string | undefined {
  if (betas === undefined) return undefined;
  const kept = betas.split(',').map((b) => b.trim()).filter((b) => b !== '' && !b.startsWith('context-1m'));
  return kept.length > 0 ? kept.join(',') : undefined;
}

/**
 * A prompt's size in tokens for the tenant's size rules, from the request's bytes: about 4 bytes
 * per token in English (fewer tokens per byte in CJK, so such prompts read larger). The
 * reservation's bound is no estimate (a token is at least a byte) and would read 4× too large.
 */
export function sizeEstimateOf(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 4);
}
