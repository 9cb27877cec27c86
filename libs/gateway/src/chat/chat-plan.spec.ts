import type { ChatRequest } from '@gw/llm';
import type { CatalogEntry } from '../catalog/catalog-cache';
import { maxOutputOf, mayOverflowContext } from './chat-plan';

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

describe('maxOutputOf', () => {
  const m = model(1000, 800);

  it("is the client's cap, bounded by the model's maximum, whatever the prompt", () => {
    expect(maxOutputOf(req({ max_tokens: 700 }), m, 900)).toBe(700);
    expect(maxOutputOf(req({ max_completion_tokens: 5000 }), m)).toBe(800);
  });

  it("is the model's maximum without a counted prompt", () => {
    expect(maxOutputOf(req(), m)).toBe(800);
  });

  it('leaves a counted prompt its margin: context − ceil(prompt × 1.1), at most the maximum', () => {
    expect(maxOutputOf(req(), m, 100)).toBe(800);
    expect(maxOutputOf(req(), m, 608)).toBe(1000 - 669);
  });

  it('within the margin of the context, gives what the count leaves, at least 1', () => {
    // 950 × 1.1 > 1000: the margin cannot be kept.
    expect(maxOutputOf(req(), m, 950)).toBe(50);
    expect(maxOutputOf(req(), m, 1000)).toBe(1);
  });
});

describe('mayOverflowContext', () => {
  it('is false while the byte bound plus the output cap fits every model (no counting)', () => {
    expect(mayOverflowContext(req(), 200, [{ model: model(1000, 800) }])).toBe(false);
    expect(mayOverflowContext(req({ max_tokens: 100 }), 900, [{ model: model(1000, 800) }])).toBe(false);
  });

  it('is true when any model might not hold the prompt with its cap', () => {
    expect(mayOverflowContext(req(), 201, [{ model: model(128_000, 16_384) }, { model: model(1000, 800) }])).toBe(true);
    expect(mayOverflowContext(req({ max_tokens: 100 }), 901, [{ model: model(1000, 800) }])).toBe(true);
  });
});
