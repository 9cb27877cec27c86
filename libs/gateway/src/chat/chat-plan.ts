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

/** Output cap of one attempt: the request's, else the model's maximum (required by some providers). */
export function maxOutputOf(req: ChatRequest, model: CatalogEntry): number {
  const asked = req.max_completion_tokens ?? req.max_tokens ?? undefined;
  return asked === undefined || asked === null ? model.maxOutputTokens : Math.min(asked, model.maxOutputTokens);
}

export function countImages(req: ChatRequest): number {
  let n = 0;
  for (const m of req.messages) {
    const c = (m as { content?: unknown }).content;
    if (Array.isArray(c)) for (const p of c) if ((p as { type?: string }).type === 'image_url') n++;
  }
  return n;
}

/**
 * Whether the request marks anything for Anthropic's hour-long cache (`cache_control` with
 * `ttl: "1h"`, which the adapter honours on text parts and tools). Only then can the provider
 * report hour-long cache writes, so only then does the hold price prompt tokens at their rate.
 */
export function asksHourLongCache(req: ChatRequest): boolean {
  for (const m of req.messages) {
    const c = (m as { content?: unknown }).content;
    if (Array.isArray(c)) for (const p of c) if ((p as { cache_control?: { ttl?: string } } | null)?.cache_control?.ttl === '1h') return true;
  }
  for (const t of req.tools ?? []) if ((t as { cache_control?: { ttl?: string } }).cache_control?.ttl === '1h') return true;
  return false;
}

/** The price a hold is computed with: without the hour-long write rate when the request cannot incur it. */
export function holdPriceOf(price: ModelPrice, hourLongCache: boolean): ModelPrice {
  return hourLongCache || price.cacheWrite1h == null ? price : { ...price, cacheWrite1h: null };
}
