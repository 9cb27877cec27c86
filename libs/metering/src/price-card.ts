import { microsToUsd, microsToUsdText } from '@gw/core';
import type { ModelPrice } from './pricing';

/**
 * The rate card a request was charged at (reliability T35: the price version of every charge):
 * the model's prices captured at reservation, in micro-USD per million tokens, and either the
 * platform's markup or, on the tenant's own key, the BYOK fee's share of that list price. With
 * the request's tokens it reproduces the charge: `cost = ceil(Σ tokens × price × (1 + markup) / 1e6)`.
 * It travels in the usage event as JSON and lands on the request log; the ledger entry's
 * description says it in words.
 */
export interface PriceCard {
  input: number;
  output: number;
  cache_read: number | null;
  cache_write: number | null;
  cache_write_1h: number | null;
  /** Platform charges: the markup in basis points. */
  markup_bps?: number;
  /** Charges on the tenant's own key: the fee in basis points of the list price. */
  byok_fee_bps?: number;
}

export type ChargeRate = { markupBps: bigint } | { byokFeeBps: bigint };

export function priceCardOf(price: ModelPrice, rate: ChargeRate): PriceCard {
  const num = (m: bigint | null | undefined) => (m === null || m === undefined ? null : Number(m));
  return {
    input: Number(price.input),
    output: Number(price.output),
    cache_read: num(price.cacheRead),
    cache_write: num(price.cacheWrite),
    cache_write_1h: num(price.cacheWrite1h),
    ...('markupBps' in rate ? { markup_bps: Number(rate.markupBps) } : { byok_fee_bps: Number(rate.byokFeeBps) }),
  };
}

/**
 * A stored card read back, or null when it is absent or not one (a request log written before
 * cards existed, a hand-edited row).
 */
export function priceCardFrom(v: unknown): PriceCard | null {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Record<string, unknown>;
  const price = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  const optional = (x: unknown): number | null | false => (x === null || x === undefined ? null : price(x) ? x : false);
  const [cacheRead, cacheWrite, cacheWrite1h] = [optional(c.cache_read), optional(c.cache_write), optional(c.cache_write_1h)];
  if (!price(c.input) || !price(c.output) || cacheRead === false || cacheWrite === false || cacheWrite1h === false) return null;
  const base = { input: c.input, output: c.output, cache_read: cacheRead, cache_write: cacheWrite, cache_write_1h: cacheWrite1h };
  // Exactly one rate, a count of basis points; only the known fields are kept.
  if (price(c.markup_bps) && c.byok_fee_bps === undefined) return { ...base, markup_bps: c.markup_bps };
  if (price(c.byok_fee_bps) && c.markup_bps === undefined) return { ...base, byok_fee_bps: c.byok_fee_bps };
  return null;
}

/** Prices as the APIs show them (`/v1/models`, the rate card): USD per million tokens as decimal strings, null for none. */
export function usdPricingOf(price: ModelPrice) {
  return {
    prompt: String(microsToUsd(price.input)),
    completion: String(microsToUsd(price.output)),
    cache_read: microsToUsdText(price.cacheRead),
    cache_write: microsToUsdText(price.cacheWrite),
    cache_write_1h: microsToUsdText(price.cacheWrite1h ?? null),
  };
}

/** The card as APIs show it: its prices as `usdPricingOf` writes them, its rate in basis points. */
export function priceCardView(card: PriceCard) {
  const micros = (m: number | null) => (m === null ? null : BigInt(m));
  const price = { input: BigInt(card.input), output: BigInt(card.output), cacheRead: micros(card.cache_read), cacheWrite: micros(card.cache_write), cacheWrite1h: micros(card.cache_write_1h) };
  return {
    ...usdPricingOf(price),
    ...(card.markup_bps !== undefined ? { markup_bps: card.markup_bps } : { byok_fee_bps: card.byok_fee_bps ?? 0 }),
  };
}

/**
 * The card in words, for a ledger entry's description: `openai/gpt-4o-mini at USD 0.15/M prompt,
 * 0.6/M completion, 0.075/M cache read; markup 0 bps`.
 */
export function priceCardText(model: string, card: PriceCard): string {
  const v = priceCardView(card);
  const parts = [`${v.prompt}/M prompt`, `${v.completion}/M completion`];
  if (v.cache_read !== null) parts.push(`${v.cache_read}/M cache read`);
  if (v.cache_write !== null) parts.push(`${v.cache_write}/M cache write`);
  if (v.cache_write_1h !== null) parts.push(`${v.cache_write_1h}/M 1h cache write`);
  const rate = card.markup_bps !== undefined ? `markup ${card.markup_bps} bps` : `BYOK fee ${card.byok_fee_bps} bps of list price`;
  return `${model} at USD ${parts.join(', ')}; ${rate}`;
}
