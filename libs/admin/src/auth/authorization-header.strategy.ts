import { Strategy } from 'passport';

type Verified = (err: unknown, user?: object | false | null) => void;
type Verify = (token: string, done: Verified) => void;

interface HeaderRequest {
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * passport-http-bearer without its fallbacks: that strategy also takes the token from an
 * `access_token` query parameter or body field, where URLs leak it into proxy and access logs and
 * browser history. The API takes credentials from `Authorization: Bearer` only (API.md); a token
 * anywhere else is not looked at, so the request is as unauthenticated as one without it.
 */
export class AuthorizationHeaderStrategy extends Strategy {
  override name = 'authorization-bearer';

  constructor(private readonly verify: Verify) {
    super();
  }

  override authenticate(req: HeaderRequest): void {
    const token = bearerOf(req.headers?.authorization);
    if (token === undefined) return this.fail(401);
    this.verify(token, (err, user) => {
      if (err) return this.error(err);
      if (!user) return this.fail(401);
      this.success(user);
    });
  }
}

/** The credentials of `Bearer <token>` (scheme case-insensitive, one space, as RFC 6750 and passport-http-bearer). */
function bearerOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const [scheme = '', token, ...rest] = header.split(' ');
  return rest.length === 0 && /^Bearer$/i.test(scheme) && token ? token : undefined;
}
