import 'reflect-metadata';
import { validateSync } from 'class-validator';
import { IsUsd } from './usd.validator';

class Limit {
  @IsUsd({ min: -1_000_000, max: 1_000_000 })
  amount!: unknown;
}

class Charge {
  @IsUsd({ min: 0.01, max: 1_000_000, decimals: 2 })
  amount!: unknown;
}

const errorsOf = (cls: new () => { amount: unknown }, amount: unknown) => {
  const o = new cls();
  o.amount = amount;
  return validateSync(o);
};

describe('IsUsd', () => {
  it('takes amounts usdToMicros converts exactly, within the bounds', () => {
    for (const ok of [0, 1, -1, 0.000001, 12.345678, 999_999.999999, 1_000_000, -1_000_000]) expect([ok, errorsOf(Limit, ok)]).toEqual([ok, []]);
    for (const ok of [0.01, 25, 10.5, 1_000_000]) expect([ok, errorsOf(Charge, ok)]).toEqual([ok, []]);
  });

  it('refuses exponent forms, sub-micro and over-precise amounts, out-of-range and non-numbers, without throwing', () => {
    const bad = [1e-7, 1.5e-7, 1e-8, 1.0000001, 1e21, 1e10, -1_000_000.000001, Number.NaN, Infinity, '1', null, true, {}];
    for (const v of bad) {
      const errors = errorsOf(Limit, v);
      expect([v, errors.length]).toEqual([v, 1]);
      expect(Object.values(errors[0]?.constraints ?? {})[0]).toMatch(/^amount must be a USD amount from -1000000 to 1000000 with at most 6 decimals$/);
    }
    for (const v of [0.001, 10.005, 0, 0.009]) expect([v, errorsOf(Charge, v).length]).toEqual([v, 1]);
  });
});
