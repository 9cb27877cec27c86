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
 * Output cap of one attempt: the request's, else the model's maximum (required by some
 * providers). Without a cap from the client and with the prompt counted (`promptTokens`, only
 * for prompts large enough to matter), the default is lowered so that prompt and output fit the
 * model's context: a provider refuses a request whose prompt plus max_tokens exceeds it, where
 * a direct call without max_tokens would have been served. A cap the client set is theirs.
 */
export function maxOutputOf(req: ChatRequest, model: CatalogEntry, promptTokens?: number): number {
  const asked = req.max_completion_tokens ?? req.max_tokens ?? undefined;
  if (asked !== undefined && asked !== null) return Math.min(asked, model.maxOutputTokens);
  if (promptTokens === undefined) return model.maxOutputTokens;
  let room = model.contextLength - Math.ceil(promptTokens * PROMPT_COUNT_MARGIN);
  // Within the margin of the context: whatever the count leaves (the provider has the last word).
  if (room < 1) room = model.contextLength - promptTokens;
  return Math.max(1, Math.min(model.maxOutputTokens, room));
}

/**
 * Whether the prompt may not fit some candidate's context with its output cap: the byte bound
 * (at most one token per byte) is cheap, and only a prompt it cannot clear is counted.
 */
export function mayOverflowContext(req: ChatRequest, promptBound: number, candidates: readonly { model: CatalogEntry }[]): boolean {
  for (const { model: m } of candidates) if (promptBound + maxOutputOf(req, m) > m.contextLength) return true;
  return false;
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
