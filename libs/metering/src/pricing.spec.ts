import { randomInt } from 'node:crypto';
import { ZERO_USAGE, type TokenUsage } from '@gw/core';
import { encode } from 'gpt-tokenizer';
import {
  affordableTokens,
  costMicros,
  DEFAULT_PROMPT_ALLOWANCES,
  percentToBps,
  promptTokenBound,
  shareOfCostMicros,
  worstCaseMicros,
  type ModelPrice,
} from './pricing';
import { priceCardFrom, priceCardOf } from './price-card';

// Prices in micros per million tokens, as a catalog would hold them.
const GPT4O: ModelPrice = { input: 2_500_000n, output: 10_000_000n, cacheRead: 1_250_000n, cacheWrite: null };
const SONNET: ModelPrice = { input: 3_000_000n, output: 15_000_000n, cacheRead: 300_000n, cacheWrite: 3_750_000n };
const O_MINI: ModelPrice = { input: 1_100_000n, output: 4_400_000n, cacheRead: null, cacheWrite: null };
/** Anthropic: 5-minute cache writes at 1.25x input, hour-long ones at 2x. */
const SONNET_1H: ModelPrice = { ...SONNET, cacheWrite1h: 6_000_000n };

const usage = (u: Partial<TokenUsage>): TokenUsage => ({ ...ZERO_USAGE, ...u });

describe('costMicros', () => {
  it.each<[string, TokenUsage, ModelPrice, bigint, bigint]>([
    ['zero usage costs nothing', ZERO_USAGE, GPT4O, 500n, 0n],
    ['plain prompt + completion', usage({ promptTokens: 1000, completionTokens: 500 }), GPT4O, 0n, 7_500n],
    // 600 uncached at 2.5 + 400 cached at 1.25 + 500 out at 10 (per token: micros/1e6)
    ['cached prompt tokens at the cache-read price', usage({ promptTokens: 1000, cachedTokens: 400, completionTokens: 500 }), GPT4O, 0n, 7_000n],
    // 1000 uncached*3 + 6000 read*0.3 + 3000 write*3.75 + 200 out*15
    [
      'cache reads and writes (Anthropic-style)',
      usage({ promptTokens: 10_000, cachedTokens: 6_000, cacheWriteTokens: 3_000, completionTokens: 200 }),
      SONNET,
      0n,
      19_050n,
    ],
    // reasoning tokens are inside completion tokens: counted once
    ['reasoning is part of completion', usage({ promptTokens: 100, completionTokens: 1000, reasoningTokens: 800 }), O_MINI, 0n, 4_510n],
    ['5% markup', usage({ promptTokens: 1000, completionTokens: 500 }), GPT4O, 500n, 7_875n],
    ['2.5% markup, exact', usage({ promptTokens: 1000, completionTokens: 500 }), GPT4O, 250n, 7_688n /* 7687.5 up */],
    ['null cache prices fall back to input', usage({ promptTokens: 1000, cachedTokens: 1000 }), O_MINI, 0n, 1_100n],
    ['cache write without a cache-write price pays input', usage({ promptTokens: 1000, cacheWriteTokens: 1000 }), GPT4O, 0n, 2_500n],
    ['one token rounds up to a whole micro', usage({ promptTokens: 1 }), GPT4O, 0n, 3n /* 2.5 */],
    // rounding per part would give ceil(2.5) + ceil(1.5) = 5
    ['one rounding for the whole request', usage({ promptTokens: 1, completionTokens: 1 }), { ...GPT4O, output: 1_500_000n }, 0n, 4n],
    // rounding before the markup would give ceil(ceil(2.5) * 1.1) = 4
    ['markup applied before the single rounding', usage({ promptTokens: 1 }), GPT4O, 1000n, 3n /* 2.75 */],
    ['a million tokens is the list price', usage({ promptTokens: 1_000_000 }), GPT4O, 0n, 2_500_000n],
    ['free model', usage({ promptTokens: 5000, completionTokens: 5000 }), { input: 0n, output: 0n, cacheRead: null, cacheWrite: null }, 2000n, 0n],
    // 1000 uncached*3 + 2000 5m writes*3.75 + 1000 1h writes*6 + 100 out*15
    [
      'hour-long cache writes at their own price',
      usage({ promptTokens: 4_000, cacheWriteTokens: 3_000, cacheWrite1hTokens: 1_000, completionTokens: 100 }),
      SONNET_1H,
      0n,
      18_000n,
    ],
    // without a 1h price they cost what any cache write costs: 1000*3 + 3000*3.75
    ['hour-long cache writes without a 1h price', usage({ promptTokens: 4_000, cacheWriteTokens: 3_000, cacheWrite1hTokens: 1_000 }), SONNET, 0n, 14_250n],
    // a provider reporting more 1h writes than writes: clamped to the writes (1000*3 + 3000*6)
    ['1h writes clamp to the cache writes', usage({ promptTokens: 4_000, cacheWriteTokens: 3_000, cacheWrite1hTokens: 9_000 }), SONNET_1H, 0n, 21_000n],
    // providers reporting more cached than prompt: uncached clamps at 0, cached still priced
    ['uncached clamps at zero', usage({ promptTokens: 1000, cachedTokens: 1200 }), GPT4O, 0n, 1_500n],
  ])('%s', (_name, u, price, markup, expected) => {
    expect(costMicros(u, price, markup)).toBe(expected);
  });

  it('is exact at large volumes (no float drift)', () => {
    const u = usage({ promptTokens: 987_654_321, cachedTokens: 123_456_789, completionTokens: 55_555_555 });
    const exact = ((987_654_321n - 123_456_789n) * 3_000_000n + 123_456_789n * 300_000n + 55_555_555n * 15_000_000n) * 10_333n;
    const denom = 10_000_000_000n;
    expect(costMicros(u, SONNET, 333n)).toBe((exact + denom - 1n) / denom);
  });

  it.each([
    ['negative tokens', usage({ promptTokens: -1 }), 0n],
    ['fractional tokens', usage({ completionTokens: 1.5 }), 0n],
    ['negative markup', usage({ promptTokens: 1 }), -1n],
  ])('refuses %s', (_n, u, markup) => {
    expect(() => costMicros(u, GPT4O, markup)).toThrow(RangeError);
  });

  it('refuses negative prices', () => {
    expect(() => costMicros(usage({ promptTokens: 1 }), { ...GPT4O, output: -1n }, 0n)).toThrow(RangeError);
    expect(() => costMicros(usage({ promptTokens: 1 }), { ...GPT4O, cacheWrite1h: -1n }, 0n)).toThrow(RangeError);
  });
});

describe('worstCaseMicros', () => {
  it('prices every prompt token at the dearest prompt price', () => {
    // 1000 * 3.75 (cache write) + 500 * 15
    expect(worstCaseMicros(1000, 500, SONNET, 0n)).toBe(11_250n);
    expect(worstCaseMicros(1000, 500, SONNET, 250n)).toBe(11_532n); // 11531.25 up
    expect(worstCaseMicros(1000, 500, GPT4O, 0n)).toBe(7_500n);
    expect(worstCaseMicros(0, 0, GPT4O, 0n)).toBe(0n);
    // 1000 * 6 (1h cache write) + 500 * 15
    expect(worstCaseMicros(1000, 500, SONNET_1H, 0n)).toBe(13_500n);
  });

  it('bounds the actual cost of any usage within the bounds (property)', () => {
    const prices = [GPT4O, SONNET, SONNET_1H, O_MINI, { input: 7n, output: 1n, cacheRead: 9n, cacheWrite: 3n }, { input: 2n, output: 1n, cacheRead: null, cacheWrite: null, cacheWrite1h: 5n }];
    for (let i = 0; i < 3000; i++) {
      const price = prices[i % prices.length];
      const markup = BigInt(randomInt(0, 5000));
      const bound = randomInt(0, 200_000);
      const maxOut = randomInt(0, 100_000);
      const prompt = randomInt(0, bound + 1);
      const cached = randomInt(0, prompt + 1);
      const write = randomInt(0, prompt - cached + 1);
      const write1h = randomInt(0, write + 1);
      const completion = randomInt(0, maxOut + 1);
      const u = usage({ promptTokens: prompt, cachedTokens: cached, cacheWriteTokens: write, cacheWrite1hTokens: write1h, completionTokens: completion });
      expect(costMicros(u, price, markup)).toBeLessThanOrEqual(worstCaseMicros(bound, maxOut, price, markup));
    }
  });
});

describe('the rate card reproduces every charge (reliability T35, property)', () => {
  /** DESIGN.md's formula, written apart from `costMicros`, over the card's plain numbers. */
  function fromCard(u: TokenUsage, card: ReturnType<typeof priceCardOf>): bigint {
    const n = (x: number | null | undefined) => BigInt(x ?? 0);
    const write1h = Math.min(u.cacheWrite1hTokens ?? 0, u.cacheWriteTokens);
    const uncached = Math.max(0, u.promptTokens - u.cachedTokens - u.cacheWriteTokens);
    const perMillion =
      n(uncached) * n(card.input) +
      n(u.cachedTokens) * n(card.cache_read ?? card.input) +
      n(u.cacheWriteTokens - write1h) * n(card.cache_write ?? card.input) +
      n(write1h) * n(card.cache_write_1h ?? card.cache_write ?? card.input) +
      n(u.completionTokens) * n(card.output);
    const rate = card.markup_bps !== undefined ? 10_000n + n(card.markup_bps) : n(card.byok_fee_bps);
    const d = 1_000_000n * 10_000n;
    return (perMillion * rate + d - 1n) / d;
  }

  it('charges ceil(Σ tokens × price × rate) once per request, whatever the prices, usage and markup', () => {
    for (let i = 0; i < 3000; i++) {
      const opt = () => (randomInt(0, 3) === 0 ? null : BigInt(randomInt(0, 30_000_000)));
      const price: ModelPrice = { input: BigInt(randomInt(0, 30_000_000)), output: BigInt(randomInt(0, 120_000_000)), cacheRead: opt(), cacheWrite: opt(), cacheWrite1h: opt() };
      const prompt = randomInt(0, 300_000);
      const cached = randomInt(0, prompt + 1);
      const write = randomInt(0, prompt - cached + 1);
      const u = usage({ promptTokens: prompt, cachedTokens: cached, cacheWriteTokens: write, cacheWrite1hTokens: randomInt(0, write + 1), completionTokens: randomInt(0, 100_000) });
      const markup = BigInt(randomInt(0, 5000));
      const fee = BigInt(randomInt(0, 5000));
      expect(costMicros(u, price, markup)).toBe(fromCard(u, priceCardOf(price, { markupBps: markup })));
      expect(shareOfCostMicros(u, price, fee)).toBe(fromCard(u, priceCardOf(price, { byokFeeBps: fee })));
      // A card survives its JSON trip (the usage event, the request log) unchanged.
      expect(JSON.parse(JSON.stringify(priceCardOf(price, { markupBps: markup })))).toEqual(priceCardOf(price, { markupBps: markup }));
    }
  });
});

describe('promptTokenBound', () => {
  it('adds the documented allowances and multiplies by n', () => {
    expect(DEFAULT_PROMPT_ALLOWANCES).toEqual({ perMessage: 8, perImage: 1_600 });
    expect(promptTokenBound(1000, 3, 1, 1)).toBe(1000 + 3 * 8 + 1600);
    expect(promptTokenBound(1000, 3, 1, 2)).toBe(2 * (1000 + 3 * 8 + 1600));
    expect(promptTokenBound(10, 1, 0, 1, { perMessage: 4, perImage: 0 })).toBe(14);
  });

  it('refuses nonsense', () => {
    expect(() => promptTokenBound(-1, 1, 0, 1)).toThrow(RangeError);
    expect(() => promptTokenBound(1.5, 1, 0, 1)).toThrow(RangeError);
    expect(() => promptTokenBound(Number.MAX_SAFE_INTEGER, 1, 0, 2)).toThrow(RangeError);
  });

  it('bounds a real tokenizer on mixed-script text (a token is at least one byte)', () => {
    const samples = ['hello world', 'héllo wörld 你好 🎉', '🎉'.repeat(50), 'ﷺ'.repeat(30), 'a'.repeat(1000), 'Ǆ̵̡̢'.repeat(40)];
    for (const text of samples) {
      const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: text }] });
      expect(encode(text).length).toBeLessThanOrEqual(promptTokenBound(Buffer.byteLength(body), 1, 0, 1));
    }
  });
});

describe('affordableTokens', () => {
  it('says how many output tokens the balance pays for', () => {
    expect(affordableTokens(7_500n, GPT4O, 0n)).toBe(750n);
    expect(affordableTokens(7_500n, GPT4O, 0n, 1000)).toBe(500n);
    expect(affordableTokens(0n, GPT4O, 0n)).toBe(0n);
    expect(affordableTokens(-5n, GPT4O, 0n)).toBe(0n);
    expect(affordableTokens(1n, GPT4O, 0n, 1000)).toBe(0n);
    expect(affordableTokens(100n, { ...GPT4O, output: 0n }, 0n)).toBeNull();
  });

  it('is the exact largest affordable count (property)', () => {
    const prices = [GPT4O, SONNET, O_MINI, { input: 1n, output: 3n, cacheRead: null, cacheWrite: null }];
    for (let i = 0; i < 2000; i++) {
      const price = prices[i % prices.length];
      const markup = BigInt(randomInt(0, 3000));
      const available = BigInt(randomInt(1, 50_000_000));
      const prompt = randomInt(0, 5000);
      const k = affordableTokens(available, price, markup, prompt);
      if (k === null) throw new Error('paid output expected');
      if (k > 0n) expect(worstCaseMicros(prompt, Number(k), price, markup)).toBeLessThanOrEqual(available);
      expect(worstCaseMicros(prompt, Number(k) + 1, price, markup)).toBeGreaterThan(available);
    }
  });
});

describe('percentToBps', () => {
  it.each([
    ['2.5', 250n],
    ['0', 0n],
    ['5', 500n],
    ['2.55', 255n],
    ['0.01', 1n],
    ['100', 10_000n],
  ])('%s%% -> %s bps', (p, bps) => expect(percentToBps(p)).toBe(bps));

  it.each(['2.555', '-1', 'abc', '.5', '', '1e2'])('refuses %p', (p) => {
    expect(() => percentToBps(p)).toThrow(RangeError);
  });
});

describe('a stored rate card read back', () => {
  it('keeps only the known fields, and refuses a card without exactly one rate or with a bad price', () => {
    const card = { input: 1, output: 2, cache_read: null, cache_write: 3, cache_write_1h: null, markup_bps: 0 };
    expect(priceCardFrom({ ...card, extra: 'x\u0000y' })).toEqual(card);
    expect(priceCardFrom({ ...card, markup_bps: null })).toBeNull();
    expect(priceCardFrom({ ...card, byok_fee_bps: 500 })).toBeNull();
    expect(priceCardFrom({ ...card, input: -1 })).toBeNull();
    expect(priceCardFrom({ ...card, cache_read: '1' })).toBeNull();
    expect(priceCardFrom('{}')).toBeNull();
    const { markup_bps: _m, ...list } = card;
    expect(priceCardFrom({ ...list, byok_fee_bps: 500 })).toEqual({ ...list, byok_fee_bps: 500 });
  });
});
