import type { ChatRequest } from '@gw/llm';
import type { ModelPrice } from '@gw/metering';
import { Charges } from './charges';
import { promptContentOf, type Candidate } from './chat-plan';

const asksHourLongCache = (r: ChatRequest) => promptContentOf(r).hourLongCache;

/** Anthropic-style prices (micros per million): 5-minute writes 1.25x input, hour-long ones 2x. */
const SONNET: ModelPrice = { input: 3_000_000n, output: 15_000_000n, cacheRead: 300_000n, cacheWrite: 3_750_000n, cacheWrite1h: 6_000_000n };
const platform = { model: { price: SONNET }, endpoint: { credentialId: undefined } } as unknown as Candidate;
const own = { model: { price: SONNET }, endpoint: { credentialId: 'cred_1' } } as unknown as Candidate;

const req = (extra: Partial<ChatRequest>, content: unknown = 'hi'): ChatRequest => ({ model: 'anthropic/claude-sonnet-4.5', messages: [{ role: 'user', content }], ...extra }) as ChatRequest;

describe('holds and hour-long cache writes', () => {
  it('sees a 1h cache_control on a text part or a tool, and nothing else', () => {
    expect(asksHourLongCache(req({}, [{ type: 'text', text: 'ctx', cache_control: { type: 'ephemeral', ttl: '1h' } }]))).toBe(true);
    const tool = { type: 'function', function: { name: 'f', parameters: {} }, cache_control: { type: 'ephemeral', ttl: '1h' } };
    expect(asksHourLongCache(req({ tools: [tool] } as Partial<ChatRequest>))).toBe(true);
    expect(asksHourLongCache(req({}, [{ type: 'text', text: 'ctx', cache_control: { type: 'ephemeral' } }]))).toBe(false);
    expect(asksHourLongCache(req({}, [{ type: 'text', text: 'ctx', cache_control: { type: 'ephemeral', ttl: '5m' } }]))).toBe(false);
    expect(asksHourLongCache(req({}))).toBe(false);
  });

  it('holds prompt tokens at the hour-long write price only when the request can incur it', () => {
    const charges = new Charges(0n, 500n);
    // 1000 prompt tokens at the dearest prompt price + 100 output tokens at 15.
    expect(charges.worstCase(platform, 1000, 100, false)).toBe(3_750n + 1_500n);
    expect(charges.worstCase(platform, 1000, 100, true)).toBe(6_000n + 1_500n);
    // The BYOK fee's hold follows the same price (5% of it).
    expect(charges.worstCase(own, 1000, 100, false)).toBe(263n);
    expect(charges.worstCase(own, 1000, 100, true)).toBe(375n);
    // With hour-long writes asked for, the charge of any usage within the bounds stays under the hold.
    const worst = { promptTokens: 1000, cachedTokens: 0, cacheWriteTokens: 1000, cacheWrite1hTokens: 1000, completionTokens: 100, reasoningTokens: 0 };
    expect(charges.of(platform, worst).cost).toBe(charges.worstCase(platform, 1000, 100, true));
  });
});

describe("the 402's affordable max_tokens", () => {
  // A seeded generator, so a failure names a case that can be rerun.
  let seed = 7;
  const rand = (max: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % max;
  };

  it('is the largest max_tokens whose hold the balance covers, platform and BYOK, with n choices and the prompt', () => {
    const charges = new Charges(550n, 500n);
    for (let i = 0; i < 2_000; i++) {
      const c = i % 2 === 0 ? platform : own;
      const prompt = rand(50_000);
      const n = 1 + rand(3);
      const hourLong = rand(2) === 1;
      const available = BigInt(1 + rand(2_000_000));
      const advice = charges.affordableOutput(c, available, prompt, n, hourLong);
      expect(advice).not.toBeNull();
      const max = Number(advice);
      const at = (tokens: number) => charges.worstCase(c, prompt, tokens * n, hourLong);
      if (max > 0) expect({ i, hold: at(max) <= available }).toEqual({ i, hold: true });
      // One more token per choice would not fit: unless the prompt alone is already over.
      if (at(0) <= available) expect({ i, over: at(max + 1) > available }).toEqual({ i, over: true });
    }
  });

  it('is null when output is free, or when the tenant pays no BYOK fee', () => {
    const free = { model: { price: { ...SONNET, output: 0n } }, endpoint: { credentialId: undefined } } as unknown as Candidate;
    expect(new Charges(0n, 500n).affordableOutput(free, 1_000n, 10, 1, false)).toBeNull();
    expect(new Charges(0n, 0n).affordableOutput(own, 1_000n, 10, 1, false)).toBeNull();
  });
});
