import { nestsDeeperThan } from './json-depth';

function nested(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

describe('nestsDeeperThan', () => {
  it('counts object and array levels, leaves not', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan({ a: 1 }, 1)).toBe(false);
    expect(nestsDeeperThan({ a: 1 }, 0)).toBe(true);
    expect(nestsDeeperThan(nested(64), 64)).toBe(false);
    expect(nestsDeeperThan(nested(65), 64)).toBe(true);
    expect(nestsDeeperThan({ wide: Array.from({ length: 1000 }, (_, i) => ({ i })) }, 3)).toBe(false);
  });

  it('walks nesting far deeper than the call stack without throwing', () => {
    expect(nestsDeeperThan(nested(200_000), 64)).toBe(true);
  });
});
