import { pgJson, pgText } from './postgres-values';

describe('values Postgres accepts', () => {
  it('drops NUL from text', () => {
    expect(pgText('a\0b\0')).toBe('ab');
    expect(pgText('plain')).toBe('plain');
  });

  it('makes JSON that jsonb takes: NUL and lone surrogates gone from keys and values, valid pairs kept', () => {
    const v = { 'x\0y': ['a\0', '\ud800z', 'ok 😀', { 'k\udc00': 1 }], n: 2, d: new Date(0) };
    const out = pgJson(v);
    expect(out).not.toMatch(/\\u0000|\\ud[89a-f]/i);
    expect(JSON.parse(out)).toEqual({ xy: ['a', '\ufffdz', 'ok 😀', { 'k\ufffd': 1 }], n: 2, d: '1970-01-01T00:00:00.000Z' });
    // The common case is JSON.stringify's own output.
    expect(pgJson({ a: 'b', c: [1, 'é'] })).toBe(JSON.stringify({ a: 'b', c: [1, 'é'] }));
    expect(pgJson(undefined)).toBe('null');
  });
});
