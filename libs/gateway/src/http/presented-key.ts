import type { FastifyRequest } from 'fastify';
import { repeatsCredentialHeaders } from '@gw/core';

/**
 * The API key a request presents: `Authorization: Bearer <key>`, else `x-api-key` (Anthropic's).
 * A request carrying either header twice presents none (see repeatsCredentialHeaders).
 */
export function presentedKey(req: FastifyRequest): string | undefined {
  if (repeatsCredentialHeaders(req.raw.rawHeaders)) return undefined;
  const auth = req.headers.authorization;
  if (auth && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim();
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x ? x.trim() : undefined;
}
