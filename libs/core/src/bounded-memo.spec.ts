import { BoundedMemo } from './bounded-memo';

describe('BoundedMemo', () => {
  it('computes a value once per key and starts over when full', () => {
    const memo = new BoundedMemo<string>(2);
    let made = 0;
    const get = (k: string) => memo.get(k, () => `${k}:${++made}`);
    expect([get('a'), get('a'), get('b'), get('b')]).toEqual(['a:1', 'a:1', 'b:2', 'b:2']);
    // Full: the third key empties it, so 'a' is computed again.
    expect(get('c')).toBe('c:3');
    expect(get('a')).toBe('a:4');
    expect(made).toBe(4);
  });
});
