import type { preValidationHookHandler } from 'fastify';
import { DomainError, ErrorCode } from '@gw/core';

/** Deeper than any real request (tool schemas stay within a few dozen levels). */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether a parsed JSON value nests objects or arrays deeper than `max`. Iterative: the value may
 * be nested far deeper than the call stack allows, which is what this guards against (a recursive
 * JSON.stringify or schema walk further on would throw RangeError, a 500 instead of a 400).
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** Refuses a body nested deeper than MAX_JSON_DEPTH with 400, before validation and handling. */
export const refuseDeepNesting: preValidationHookHandler = (req, _reply, done) => {
  if (nestsDeeperThan(req.body, MAX_JSON_DEPTH)) {
    done(new DomainError(ErrorCode.InvalidBody, `Request body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`));
    return;
  }
  done();
};
