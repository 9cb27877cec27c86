import { DomainError, ErrorCode } from '@gw/core';
import type { ChatRequest } from '@gw/llm';
import type { KeyInfo } from '../auth/key-cache';
import type { CatalogCache, CatalogEntry } from '../catalog/catalog-cache';
import type { PlatformEndpoint, ProviderEndpoints } from '../upstream/provider-endpoints';

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
 * The ordered attempts of a request: the requested model, then the request's `models` fallbacks.
 * The first model decides the error when nothing is usable (404 unknown, 403 not allowed, 503 no
 * provider); unusable fallbacks are skipped.
 */
export function planCandidates(req: ChatRequest, key: KeyInfo, catalog: CatalogCache, endpoints: ProviderEndpoints): Candidate[] {
  const names = [req.model, ...(req.models ?? [])].filter((m, i, all) => all.indexOf(m) === i);
  const out: Candidate[] = [];
  let firstError: DomainError | undefined;
  for (const name of names) {
    const model = catalog.get(name);
    let err: DomainError | undefined;
    if (!model) err = new DomainError(ErrorCode.ModelNotFound, `Unknown model: ${name}`, { param: 'model' });
    else if (!modelAllowed(key, name)) err = new DomainError(ErrorCode.ModelNotAllowed, `This key may not use model ${name}`, { param: 'model' });
    else {
      const endpoint = endpoints.get(model.provider);
      if (endpoint) out.push({ model, endpoint });
      else err = new DomainError(ErrorCode.NoAvailableProvider, `No provider is configured for ${name}`, { retryAfterSeconds: 30 });
    }
    firstError ??= err;
  }
  if (out.length === 0) throw firstError ?? new DomainError(ErrorCode.ModelNotFound, 'No model', { param: 'model' });
  return out;
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
