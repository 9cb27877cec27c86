import { ceilDiv, microsToUsd, usdToMicros } from './money';

describe('money', () => {
  it.each([
    ['1', 1_000_000n],
    ['0.1', 100_000n],
    ['0.000001', 1n],
    ['-2.5', -2_500_000n],
    ['10.120000', 10_120_000n],
  ])('parses %s USD exactly', (text, micros) => {
    expect(usdToMicros(text)).toBe(micros);
  });

  it('parses numbers without float drift', () => {
    expect(usdToMicros(0.1 + 0.2)).toBe(300_000n);
    expect(usdToMicros(19.99)).toBe(19_990_000n);
  });

  it('refuses more than six decimals and garbage', () => {
    expect(() => usdToMicros('0.0000001')).toThrow(RangeError);
    expect(() => usdToMicros('1e3')).toThrow(RangeError);
    expect(() => usdToMicros(Number.NaN)).toThrow(RangeError);
  });

  it('renders micros as USD and divides rounding up', () => {
    expect(microsToUsd(1_234_567n)).toBe(1.234567);
    expect(ceilDiv(10n, 3n)).toBe(4n);
    expect(ceilDiv(9n, 3n)).toBe(3n);
    expect(ceilDiv(0n, 3n)).toBe(0n);
    expect(ceilDiv(-10n, 3n)).toBe(-3n);
  });
});
