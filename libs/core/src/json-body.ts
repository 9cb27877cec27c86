import { DomainError, ErrorCode } from './errors';

/** Deeper than any real request (tool schemas stay within a few dozen levels). */
export const MAX_JSON_DEPTH = 64;

/** What makes a parsed body unfit to forward, found in one walk. */
export type BodyProblem = 'too_deep' | 'lone_surrogate';

/** `String.prototype.isWellFormed` (ES2024; Node 20 has it, the project's lib is ES2023). */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * Whether a parsed JSON value nests objects or arrays deeper than `max`, or holds a string with a
 * lone surrogate (`"\ud800"` is valid JSON but no valid text: providers refuse it or store
 * garbage). Iterative: the value may be nested far deeper than the call stack allows, which is
 * what this guards against (a recursive JSON.stringify or schema walk further on would throw
 * RangeError, a 500 instead of a 400).
 */
export function bodyProblem(value: unknown, max: number): BodyProblem | null {
  if (typeof value === 'string') return isWellFormed(value) ? null : 'lone_surrogate';
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return 'too_deep';
    // Keys too: unknown fields and tool schemas' property names are forwarded as they are.
    if (!Array.isArray(v)) for (const k in v) if (!isWellFormed(k)) return 'lone_surrogate';
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) {
      if (typeof child === 'string') {
        if (!isWellFormed(child)) return 'lone_surrogate';
      } else if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return null;
}

/** The 400 a body with that problem gets. */
export function bodyProblemError(problem: BodyProblem): DomainError {
  return problem === 'too_deep'
    ? new DomainError(ErrorCode.InvalidBody, `Request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`)
    : new DomainError(ErrorCode.InvalidUtf8, 'The request body holds a lone UTF-16 surrogate (\\ud800-\\udfff without its pair): not valid text');
}
