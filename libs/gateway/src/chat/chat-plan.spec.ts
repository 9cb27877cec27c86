import type { ChatRequest } from '@gw/llm';
import type { CatalogEntry } from '../catalog/catalog-cache';
import { countLimitOf, exceedsContext, maxOutputOf, needsPromptCount } from './chat-plan';

const model = (contextLength: number, maxOutputTokens: number): CatalogEntry => ({
  id: 'openai/m',
  provider: 'openai',
  canonical: 'openai/m',
  upstreamId: 'm',
  name: 'm',
  contextLength,
  maxOutputTokens,
  price: { input: 1n, output: 1n, cacheRead: null, cacheWrite: null },
  capabilities: [],
  createdAt: 0,
});
const req = (over: Partial<ChatRequest> = {}) => ({ model: 'openai/m', messages: [{ role: 'user', content: 'x' }], ...over }) as ChatRequest;
const candidates = (...models: CatalogEntry[]) => models.map((m) => ({ model: m }));

describe('maxOutputOf', () => {
  const m = model(1000, 800);

  it("is the client's cap, bounded by the model's maximum, whatever the prompt", () => {
    expect(maxOutputOf(req({ max_tokens: 700 }), m, 900)).toBe(700);
    expect(maxOutputOf(req({ max_completion_tokens: 5000 }), m)).toBe(800);
  });

  it("is the model's maximum while prompt × 1.1 and it fit the context", () => {
    expect(maxOutputOf(req(), m)).toBe(800);
    expect(maxOutputOf(req(), m, 100)).toBe(800);
    expect(maxOutputOf(req(), m, 181)).toBe(800);
  });

  it('else leaves the prompt its margin: context − ceil(prompt × 1.1)', () => {
    expect(maxOutputOf(req(), m, 608)).toBe(1000 - 669);
    // A model whose maximum output is its whole context: lowered by even a small prompt.
    expect(maxOutputOf(req(), model(1000, 1000), 20)).toBe(978);
  });

  it('within the margin of the context, gives what the count leaves, at least 1', () => {
    // 950 × 1.1 > 1000: the margin cannot be kept.
    expect(maxOutputOf(req(), m, 950)).toBe(50);
    expect(maxOutputOf(req(), m, 1000)).toBe(1);
  });
});

describe('needsPromptCount (given the byte bound of one choice)', () => {
  it('is false while the bound leaves the default cap alone', () => {
    expect(needsPromptCount(req(), 181, candidates(model(1000, 800)))).toBe(false);
  });

  it('is false while the bound is at most an eighth of the context: the bound lowers the cap itself', () => {
    expect(needsPromptCount(req(), 125, candidates(model(1000, 1000)))).toBe(false);
    expect(needsPromptCount(req(), 126, candidates(model(1000, 1000)))).toBe(true);
  });

  it('is true when any candidate could be over its context by more than the refusal margin', () => {
    expect(needsPromptCount(req({ max_tokens: 10 }), 1050, candidates(model(1000, 800)))).toBe(false);
    expect(needsPromptCount(req({ max_tokens: 10 }), 1051, candidates(model(128_000, 16_384), model(1000, 800)))).toBe(true);
  });

  it("is false for a client's own cap unless a refusal is possible: the cap is not lowered", () => {
    expect(needsPromptCount(req({ max_tokens: 700 }), 600, candidates(model(1000, 800)))).toBe(false);
  });
});

describe('exceedsContext and countLimitOf', () => {
  it('refuses only more than 5% over the context', () => {
    expect(exceedsContext(1050, model(1000, 800))).toBe(false);
    expect(exceedsContext(1051, model(1000, 800))).toBe(true);
  });

  it('stops counting where every candidate would refuse', () => {
    expect(countLimitOf(candidates(model(1000, 800), model(128_000, 16_384)))).toBe(134_400);
  });
});
