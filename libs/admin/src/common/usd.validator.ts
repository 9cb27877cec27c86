import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';
import { microsToUsd, usdToMicros } from '@gw/core';

export interface UsdBounds {
  /** Inclusive, in USD. */
  min: number;
  max: number;
  /** 6 (micros, the default) or 2 (whole cents: what a card can be charged). */
  decimals?: 2 | 6;
}

/**
 * The one check of a USD amount in an admin request body. The amount is judged by `usdToMicros`,
 * the parser that later converts it, so a value this accepts never throws at conversion: with
 * class-validator's decimal count, `1e-7` crashed the validator and `1.5e-7` passed it and then
 * threw a RangeError (both a 500). The micros must also convert back to the very number sent: a
 * parser that rounded `1e-8` to 0 would otherwise accept it as zero.
 */
export function IsUsd(bounds: UsdBounds, options?: ValidationOptions): PropertyDecorator {
  const decimals = bounds.decimals ?? 6;
  const min = usdToMicros(bounds.min);
  const max = usdToMicros(bounds.max);
  const step = 10n ** BigInt(6 - decimals);
  return ValidateBy(
    {
      name: 'isUsd',
      constraints: [bounds],
      validator: {
        validate: (value: unknown) => {
          const micros = microsOf(value);
          return micros !== null && micros >= min && micros <= max && micros % step === 0n;
        },
        defaultMessage: buildMessage((each) => `${each}$property must be a USD amount from ${bounds.min} to ${bounds.max} with at most ${decimals} decimals`, options),
      },
    },
    options,
  );
}

function microsOf(value: unknown): bigint | null {
  if (typeof value !== 'number') return null;
  try {
    const micros = usdToMicros(value);
    return microsToUsd(micros) === value ? micros : null;
  } catch {
    return null;
  }
}
