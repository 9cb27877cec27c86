import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { usdToMicros } from '@gw/core';
import type { CatalogSeedRow } from '@gw/db';

interface CatalogFileModel {
  id: string;
  upstream_id: string;
  /** Same model served by another provider (`openai/gpt-4o` for `azure/gpt-4o`): routing treats them as equivalents. */
  canonical?: string;
  name: string;
  context_length: number;
  max_output_tokens: number;
  /** `cache_write_1h`: hour-long cache writes (Anthropic); absent or null, they cost `cache_write`. */
  pricing: { input: string; output: string; cache_read: string | null; cache_write: string | null; cache_write_1h?: string | null };
  capabilities: string[];
  source: string | null;
  as_of: string | null;
  verified: boolean;
}

/** prisma/catalog.json, from src (tests) and dist (built) alike: both sit four levels below the root. */
export const CATALOG_FILE = join(__dirname, '..', '..', '..', '..', 'prisma', 'catalog.json');

/** Reads the catalog file: its prices (USD per million tokens) become micros per million tokens. */
export function readCatalogFile(path = CATALOG_FILE): CatalogSeedRow[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { models: CatalogFileModel[] };
  return doc.models.map((m) => {
    const slash = m.id.indexOf('/');
    if (slash < 1) throw new Error(`catalog: model id must be provider/model: ${m.id}`);
    return {
      id: m.id,
      provider: m.id.slice(0, slash),
      upstreamId: m.upstream_id,
      canonicalId: m.canonical ?? null,
      name: m.name,
      contextLength: m.context_length,
      maxOutputTokens: m.max_output_tokens,
      ...pricesFromUsd(m.pricing),
      capabilities: m.capabilities,
      source: m.source,
      asOf: m.as_of ? new Date(`${m.as_of}T00:00:00Z`) : null,
      verified: m.verified,
    };
  });
}

/** Prices as the catalog file and the catalog API write them: USD per million tokens, decimal strings; absent or null: none. */
export interface UsdPricing {
  input: string;
  output: string;
  cache_read?: string | null;
  cache_write?: string | null;
  cache_write_1h?: string | null;
}

/** USD per million tokens (decimal strings) become micros per million tokens. */
export function pricesFromUsd(p: UsdPricing) {
  const opt = (v: string | null | undefined) => (v === undefined || v === null ? null : usdToMicros(v));
  return {
    inputPrice: usdToMicros(p.input),
    outputPrice: usdToMicros(p.output),
    cacheReadPrice: opt(p.cache_read),
    cacheWritePrice: opt(p.cache_write),
    cacheWrite1hPrice: opt(p.cache_write_1h),
  };
}
