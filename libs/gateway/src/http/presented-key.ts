import type { FastifyRequest } from 'fastify';

/**
 * The API key a request presents: `Authorization: Bearer <key>`, else `x-api-key` (Anthropic's).
 * A request carrying either header twice presents none: Node keeps the first of two
 * Authorization headers, a proxy in front may have honoured the other (reliability T01).
 */
export function presentedKey(req: FastifyRequest): string | undefined {
  if (repeated(req.raw.rawHeaders)) return undefined;
  const auth = req.headers.authorization;
  if (auth && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim();
  const x = req.headers['x-api-key'];
  return typeof x === 'string' && x ? x.trim() : undefined;
}

function repeated(raw: string[]): boolean {
  let auth = 0;
  let xKey = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Cheap first test: only names of these two lengths can match.
    if (name.length === 13 && name.toLowerCase() === 'authorization') auth++;
    else if (name.length === 9 && name.toLowerCase() === 'x-api-key') xKey++;
  }
  return auth > 1 || xKey > 1;
}
