import { bodyProblem } from './json-body';

function nested(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

describe('bodyProblem', () => {
  it('counts object and array levels, leaves not', () => {
    expect(bodyProblem('text', 0)).toBeNull();
    expect(bodyProblem({ a: 1 }, 1)).toBeNull();
    expect(bodyProblem({ a: 1 }, 0)).toBe('too_deep');
    expect(bodyProblem(nested(64), 64)).toBeNull();
    expect(bodyProblem(nested(65), 64)).toBe('too_deep');
    expect(bodyProblem({ wide: Array.from({ length: 1000 }, (_, i) => ({ i })) }, 3)).toBeNull();
  });

  it('walks nesting far deeper than the call stack without throwing', () => {
    expect(bodyProblem(nested(200_000), 64)).toBe('too_deep');
  });

  it('finds a lone surrogate in any string, and accepts paired ones', () => {
    expect(bodyProblem({ messages: [{ role: 'user', content: 'ok 🎉 \u00e9' }] }, 64)).toBeNull();
    expect(bodyProblem({ messages: [{ role: 'user', content: [{ type: 'text', text: 'bad \ud800 here' }] }] }, 64)).toBe('lone_surrogate');
    expect(bodyProblem({ stop: ['\udc00'] }, 64)).toBe('lone_surrogate');
    expect(bodyProblem('\ud83d', 64)).toBe('lone_surrogate');
    expect(bodyProblem({ model: 'm', '\ud800': 1 }, 64)).toBe('lone_surrogate');
    expect(bodyProblem({ tools: [{ function: { parameters: { properties: { '\udc00': { type: 'string' } } } } }] }, 64)).toBe('lone_surrogate');
  });
});
