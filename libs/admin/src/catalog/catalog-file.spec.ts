import { readFileSync } from 'node:fs';
import { usdToMicros } from '@gw/core';
import { CATALOG_FILE, readCatalogFile } from './catalog-file';

/** The provider ids the gateway has adapters for (the first segment of every public model id). */
const PROVIDERS = [
  'openai',
  'anthropic',
  'google',
  'deepseek',
  'mistral',
  'groq',
  'together',
  'fireworks',
  'xai',
  'qwen',
  'perplexity',
  'moonshot',
  'openrouter',
  'azure',
];
const CAPABILITIES = ['tools', 'vision', 'json', 'reasoning', 'embeddings'];

/** The raw file, to check what the parser does not look at (string formats, the comment). */
const raw = JSON.parse(readFileSync(CATALOG_FILE, 'utf8')) as {
  $comment: string;
  models: Array<{ id: string; pricing: Record<string, string | null>; as_of: string | null }>;
};
const rows = readCatalogFile();
const byId = new Map(rows.map((r) => [r.id, r]));

describe('prisma/catalog.json', () => {
  it('parses, keeps its $comment, and has one parsed row per file row', () => {
    expect(raw.$comment).toMatch(/USD per million tokens/);
    expect(rows).toHaveLength(raw.models.length);
  });

  it('has at least 150 models from at least 14 providers', () => {
    expect(rows.length).toBeGreaterThanOrEqual(150);
    expect(new Set(rows.map((r) => r.provider)).size).toBeGreaterThanOrEqual(14);
  });

  it('has every known provider with at least 3 models', () => {
    for (const p of PROVIDERS) expect([p, rows.filter((r) => r.provider === p).length >= 3]).toEqual([p, true]);
  });

  it('has unique ids of the form provider/model with a known provider', () => {
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of rows) {
      expect(r.id).toMatch(/^[a-z]+\/[a-z0-9][a-z0-9._:/-]*$/);
      expect(PROVIDERS).toContain(r.provider);
      expect(r.id.startsWith(`${r.provider}/`)).toBe(true);
      expect(r.upstreamId.trim()).not.toBe('');
      expect(r.name.trim()).not.toBe('');
    }
  });

  it('uses the model name as the deployment name for azure', () => {
    for (const r of rows.filter((x) => x.provider === 'azure')) expect(r.upstreamId).toBe(r.id.slice('azure/'.length));
  });

  it('has positive integer context lengths and max output within the context (0 only for embeddings)', () => {
    for (const r of rows) {
      expect(Number.isInteger(r.contextLength)).toBe(true);
      expect(r.contextLength).toBeGreaterThan(0);
      expect(Number.isInteger(r.maxOutputTokens)).toBe(true);
      expect(r.maxOutputTokens).toBeGreaterThanOrEqual(0);
      expect(r.maxOutputTokens).toBeLessThanOrEqual(r.contextLength);
      if (r.capabilities.includes('embeddings')) expect(r.maxOutputTokens).toBe(0);
      else expect([r.id, r.maxOutputTokens > 0]).toEqual([r.id, true]);
    }
  });

  it('has prices as plain decimal strings with at most 6 decimals', () => {
    for (const m of raw.models) {
      for (const [k, v] of Object.entries(m.pricing)) {
        if (v === null && (k === 'cache_read' || k === 'cache_write')) continue;
        expect([m.id, k, v]).toEqual([m.id, k, expect.stringMatching(/^\d+(\.\d{1,6})?$/)]);
      }
    }
  });

  it('has non-negative prices, cache reads no dearer than input, and free output for embeddings', () => {
    for (const r of rows) {
      expect(r.inputPrice).toBeGreaterThanOrEqual(0n);
      expect(r.outputPrice).toBeGreaterThanOrEqual(0n);
      if (r.cacheReadPrice !== null) {
        expect(r.cacheReadPrice).toBeGreaterThanOrEqual(0n);
        expect([r.id, r.cacheReadPrice <= r.inputPrice]).toEqual([r.id, true]);
      }
      if (r.cacheWritePrice !== null) expect(r.cacheWritePrice).toBeGreaterThanOrEqual(0n);
      if (r.capabilities.includes('embeddings')) expect(r.outputPrice).toBe(0n);
      else expect([r.id, r.outputPrice > 0n]).toEqual([r.id, true]);
    }
  });

  it('gives every row an https source and a YYYY-MM-DD as_of', () => {
    for (const m of raw.models) expect([m.id, m.as_of]).toEqual([m.id, expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/)]);
    for (const r of rows) {
      expect(r.source).toMatch(/^https:\/\/\S+$/);
      expect(() => new URL(r.source as string)).not.toThrow();
      expect(r.asOf).toBeInstanceOf(Date);
      expect(Number.isNaN((r.asOf as Date).getTime())).toBe(false);
      expect((r.asOf as Date).toISOString().slice(0, 10)).toBe(raw.models.find((m) => m.id === r.id)?.as_of);
      expect(typeof r.verified).toBe('boolean');
    }
  });

  it('uses only known capabilities, without duplicates', () => {
    for (const r of rows) {
      for (const c of r.capabilities) expect(CAPABILITIES).toContain(c);
      expect(new Set(r.capabilities).size).toBe(r.capabilities.length);
    }
  });

  it('has embedding models for openai, google and mistral', () => {
    for (const p of ['openai', 'google', 'mistral']) {
      expect(rows.some((r) => r.provider === p && r.capabilities.includes('embeddings'))).toBe(true);
    }
  });

  it('keeps the pinned models and their values', () => {
    const mini = byId.get('openai/gpt-4o-mini');
    expect(mini).toMatchObject({ provider: 'openai', upstreamId: 'gpt-4o-mini', contextLength: 128000 });
    expect(mini?.inputPrice).toBe(usdToMicros('0.15'));
    expect(mini?.outputPrice).toBe(usdToMicros('0.6'));

    const gpt4o = byId.get('openai/gpt-4o');
    expect(gpt4o?.upstreamId).toBe('gpt-4o');
    expect(gpt4o?.inputPrice).toBe(usdToMicros('2.5'));
    expect(gpt4o?.outputPrice).toBe(usdToMicros('10'));

    expect(byId.get('anthropic/claude-sonnet-4.5')).toMatchObject({ upstreamId: 'claude-sonnet-4-5', maxOutputTokens: 64000 });
    expect(byId.get('anthropic/claude-haiku-4.5')?.upstreamId).toBe('claude-haiku-4-5');
    expect(byId.get('deepseek/deepseek-chat')?.upstreamId).toBe('deepseek-chat');
  });
});
