import { ceilDiv, type Micros, type TokenUsage } from '@gw/core';

/**
 * A model's prices in micro-USD per million tokens, captured at reservation time so that the
 * hold and the final charge use the same numbers even if the catalog changes mid-request.
 * `cacheRead` / `cacheWrite` are null when the provider has no separate price: they then cost
 * what an uncached input token costs. `cacheWrite1h` prices the cache writes kept for an hour
 * (Anthropic charges them 2x input, the 5-minute ones 1.25x); absent or null, they cost what
 * any cache write costs.
 */
export interface ModelPrice {
  input: Micros;
  output: Micros;
  cacheRead: Micros | null;
  cacheWrite: Micros | null;
  cacheWrite1h?: Micros | null;
}

const TOKENS_PER_PRICE_UNIT = 1_000_000n;
const BPS_ONE = 10_000n;
/** Prices are per million tokens and the markup is in basis points: one division covers both. */
const DENOMINATOR = TOKENS_PER_PRICE_UNIT * BPS_ONE;

/**
 * Allowances for the prompt bound. A token is at least one UTF-8 byte, so the body's byte length
 * already bounds every text token (JSON syntax only makes it larger); what bytes do not bound is
 * what the provider adds or expands:
 * - per message: the chat template's role/separator tokens (OpenAI documents 3-4 per message plus
 *   3 to prime the reply; Anthropic and Gemini use fewer). 8 covers all of them with margin.
 * - per image: an image URL is a few bytes but is billed by pixels. 1,600 tokens is Anthropic's
 *   ceiling for a resized image (~1.15 MP / 750) and above OpenAI's high-detail tile count for
 *   the sizes it accepts (85 + 170 x 8 tiles = 1,445).
 * Anything still above the bound (e.g. a provider's hidden tool-use system prompt) is charged at
 * settle anyway; the balance then dips by that excess only, which DESIGN allows.
 */
export interface PromptBoundAllowances {
  perMessage: number;
  perImage: number;
}

export const DEFAULT_PROMPT_ALLOWANCES: Readonly<PromptBoundAllowances> = Object.freeze({
  perMessage: 8,
  perImage: 1_600,
});

/**
 * Upper bound of the prompt tokens a request can be billed for, without a tokenizer.
 * Multiplied by `n` because providers that emulate `n` by fanning out bill the prompt once per
 * choice (OpenAI bills it once: the bound is then merely generous). The output side of `n` is
 * the caller's: pass `max_tokens * n` as `maxOutputTokens` to `worstCaseMicros`.
 */
export function promptTokenBound(
  bodyBytes: number,
  messageCount: number,
  imageCount: number,
  n: number,
  allowances: PromptBoundAllowances = DEFAULT_PROMPT_ALLOWANCES,
): number {
  assertCount(bodyBytes, 'bodyBytes');
  assertCount(messageCount, 'messageCount');
  assertCount(imageCount, 'imageCount');
  assertCount(n, 'n');
  const perChoice = bodyBytes + messageCount * allowances.perMessage + imageCount * allowances.perImage;
  const bound = perChoice * Math.max(1, n);
  if (!Number.isSafeInteger(bound)) throw new RangeError(`prompt bound overflows: ${bound}`);
  return bound;
}

/**
 * What a request costs: every token class at its price, the markup applied, and ONE rounding
 * (up) at the very end, so splitting usage differently can never round in the tenant's disfavour
 * twice. `promptTokens` includes cache reads and writes (OpenAI's convention); if a provider
 * reports more cached than prompt tokens the uncached part clamps at 0 rather than going negative.
 */
export function costMicros(usage: TokenUsage, price: ModelPrice, markupBps: bigint): Micros {
  assertMarkup(markupBps);
  return ceilDiv(rawCost(usage, price) * (BPS_ONE + markupBps), DENOMINATOR);
}

/**
 * A share of what the usage costs at list price (the BYOK fee: `shareBps` = 500 for 5%), with the
 * same single rounding as `costMicros`.
 */
export function shareOfCostMicros(usage: TokenUsage, price: ModelPrice, shareBps: bigint): Micros {
  assertMarkup(shareBps);
  return ceilDiv(rawCost(usage, price) * shareBps, DENOMINATOR);
}

/** Micro-USD x million: every token class at its price, before any division. */
function rawCost(usage: TokenUsage, price: ModelPrice): bigint {
  assertPrice(price);
  const prompt = tokens(usage.promptTokens, 'promptTokens');
  const cacheRead = tokens(usage.cachedTokens, 'cachedTokens');
  const cacheWrite = tokens(usage.cacheWriteTokens, 'cacheWriteTokens');
  // The hour-long writes are part of the cache writes; a provider reporting more clamps to them.
  let cacheWrite1h = tokens(usage.cacheWrite1hTokens ?? 0, 'cacheWrite1hTokens');
  if (cacheWrite1h > cacheWrite) cacheWrite1h = cacheWrite;
  const completion = tokens(usage.completionTokens, 'completionTokens');
  let uncached = prompt - cacheRead - cacheWrite;
  if (uncached < 0n) uncached = 0n;
  return (
    uncached * price.input +
    cacheRead * cacheReadPrice(price) +
    (cacheWrite - cacheWrite1h) * cacheWritePrice(price) +
    cacheWrite1h * cacheWrite1hPrice(price) +
    completion * price.output
  );
}

/**
 * The hold: every prompt token at the dearest prompt price and every output token at the output
 * price. Since `costMicros` is monotone in each token count and each prompt token costs at most
 * the dearest prompt price, `costMicros(u) <= worstCaseMicros(...)` for any usage with
 * `promptTokens <= promptBound` and `completionTokens <= maxOutputTokens` (tested as a property).
 * cacheRead is included in the max although it is normally the cheapest: the bound must hold for
 * whatever price table an operator enters.
 */
export function worstCaseMicros(
  promptBound: number,
  maxOutputTokens: number,
  price: ModelPrice,
  markupBps: bigint,
): Micros {
  assertMarkup(markupBps);
  assertPrice(price);
  const prompt = tokens(promptBound, 'promptBound');
  const output = tokens(maxOutputTokens, 'maxOutputTokens');
  const raw = prompt * maxPromptPrice(price) + output * price.output;
  return ceilDiv(raw * (BPS_ONE + markupBps), DENOMINATOR);
}

/**
 * How many output tokens `availableMicros` pays for, after `promptTokens` at the dearest prompt
 * price: the largest k with ceil((prompt*pPrompt + k*pOut) * (1+markup) / 1e6) <= available.
 * Exact in integers: ceil(x / D) <= A  <=>  x <= A*D. Null when output is free (no bound).
 */
export function affordableTokens(
  availableMicros: Micros,
  price: ModelPrice,
  markupBps: bigint,
  promptTokens = 0,
): bigint | null {
  assertMarkup(markupBps);
  assertPrice(price);
  const prompt = tokens(promptTokens, 'promptTokens');
  if (availableMicros <= 0n) return 0n;
  const budget = (availableMicros * DENOMINATOR) / (BPS_ONE + markupBps) - prompt * maxPromptPrice(price);
  if (budget < 0n) return 0n;
  if (price.output === 0n) return null;
  return budget / price.output;
}

/** '2.5' -> 250n. Percentages come from config as decimal text with at most 2 decimals. */
export function percentToBps(percent: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(percent.trim());
  if (!m) throw new RangeError(`not a percentage with at most 2 decimals: ${percent}`);
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
}

export function cacheReadPrice(price: ModelPrice): Micros {
  return price.cacheRead ?? price.input;
}

export function cacheWritePrice(price: ModelPrice): Micros {
  return price.cacheWrite ?? price.input;
}

export function cacheWrite1hPrice(price: ModelPrice): Micros {
  return price.cacheWrite1h ?? cacheWritePrice(price);
}

function maxPromptPrice(price: ModelPrice): Micros {
  let max = price.input;
  for (const p of [cacheReadPrice(price), cacheWritePrice(price), cacheWrite1hPrice(price)]) if (p > max) max = p;
  return max;
}

function assertPrice(price: ModelPrice): void {
  for (const p of [price.input, price.output, price.cacheRead ?? 0n, price.cacheWrite ?? 0n, price.cacheWrite1h ?? 0n]) {
    if (p < 0n) throw new RangeError(`prices must not be negative: ${p}`);
  }
}

function assertMarkup(markupBps: bigint): void {
  if (markupBps < 0n) throw new RangeError(`markup must not be negative: ${markupBps} bps`);
}

function tokens(n: number, name: string): bigint {
  assertCount(n, name);
  return BigInt(n);
}

function assertCount(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer: ${n}`);
}
