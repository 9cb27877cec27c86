import { ceilDiv, type TokenUsage } from '@gw/core';
import { affordableTokens, costMicros, priceCardOf, shareOfCostMicros, worstCaseMicros, type ModelPrice } from '@gw/metering';
import { holdPriceOf, type Candidate } from './chat-plan';

export interface Charge {
  /** Platform usage (0 when the tenant's own key paid the provider). */
  cost: bigint;
  /** BYOK fee: a share of what the platform price would have been. */
  byokFee: bigint;
}

/**
 * What a served attempt costs the tenant. On the platform's capacity: the catalog price with the
 * markup. With the tenant's own key: only the BYOK fee, a percentage of the list price (before
 * markup), rounded up once.
 */
export class Charges {
  /** Each captured price's rate card as JSON, platform and BYOK (a catalog refresh brings new price objects). */
  private readonly cards = new WeakMap<ModelPrice, { platform?: string; byok?: string }>();

  constructor(
    private readonly markupBps: bigint,
    private readonly byokFeeBps: bigint,
  ) {}

  of(c: Candidate, usage: TokenUsage): Charge {
    if (c.endpoint.credentialId === undefined) return { cost: costMicros(usage, c.model.price, this.markupBps), byokFee: 0n };
    return { cost: 0n, byokFee: shareOfCostMicros(usage, c.model.price, this.byokFeeBps) };
  }

  /**
   * The hold for an attempt: the worst case of whichever charge applies (rounding up twice only
   * over-holds). `hourLongCache`: the request asks for hour-long cache writes (promptContentOf).
   */
  worstCase(c: Candidate, promptTokens: number, outputTokens: number, hourLongCache: boolean): bigint {
    const price = holdPriceOf(c.model.price, hourLongCache);
    if (c.endpoint.credentialId === undefined) return worstCaseMicros(promptTokens, outputTokens, price, this.markupBps);
    return this.fee(worstCaseMicros(promptTokens, outputTokens, price, 0n));
  }

  /**
   * The largest `max_tokens` whose hold (`worstCase` with `n` choices) an available balance
   * covers, for the 402's advice; null when output is free (any cap fits). On the tenant's own key
   * the hold is the fee's share of the list price, so the balance stands for that much more.
   */
  affordableOutput(c: Candidate, availableMicros: bigint, promptTokens: number, n: number, hourLongCache: boolean): bigint | null {
    const price = holdPriceOf(c.model.price, hourLongCache);
    let total: bigint | null;
    if (c.endpoint.credentialId === undefined) total = affordableTokens(availableMicros, price, this.markupBps, promptTokens);
    else if (this.byokFeeBps === 0n) return null;
    // fee = ceil(list * bps / 10^4) <= available exactly when list <= floor(available * 10^4 / bps).
    else total = affordableTokens((availableMicros * 10_000n) / this.byokFeeBps, price, 0n, promptTokens);
    return total === null ? null : total / BigInt(Math.max(1, n));
  }

  /**
   * The rate card a served attempt is charged at (`of` above), as the usage event's JSON: the
   * prices the candidate captured at reservation and the markup, or the BYOK fee on an own key.
   */
  cardOf(c: Candidate): string {
    const price = c.model.price;
    let memo = this.cards.get(price);
    if (!memo) this.cards.set(price, (memo = {}));
    if (c.endpoint.credentialId !== undefined) return (memo.byok ??= JSON.stringify(priceCardOf(price, { byokFeeBps: this.byokFeeBps })));
    return (memo.platform ??= JSON.stringify(priceCardOf(price, { markupBps: this.markupBps })));
  }

  private fee(platformMicros: bigint): bigint {
    return ceilDiv(platformMicros * this.byokFeeBps, 10_000n);
  }
}
