import { DomainError, ErrorCode } from './errors';

/** The one table from error codes to HTTP status and OpenAI error `type`. */
const TABLE: Record<ErrorCode, [status: number, type: string]> = {
  [ErrorCode.InvalidJson]: [400, 'invalid_request_error'],
  [ErrorCode.InvalidUtf8]: [400, 'invalid_request_error'],
  [ErrorCode.InvalidBody]: [400, 'invalid_request_error'],
  [ErrorCode.UnsupportedParameter]: [400, 'invalid_request_error'],
  [ErrorCode.ContextLengthExceeded]: [400, 'invalid_request_error'],
  [ErrorCode.InvalidApiKey]: [401, 'invalid_request_error'],
  [ErrorCode.Unauthorized]: [401, 'invalid_request_error'],
  [ErrorCode.InsufficientCredits]: [402, 'insufficient_quota'],
  [ErrorCode.RequestExceedsBudget]: [402, 'insufficient_quota'],
  [ErrorCode.Forbidden]: [403, 'permission_error'],
  [ErrorCode.ModelNotAllowed]: [403, 'permission_error'],
  [ErrorCode.NotFound]: [404, 'invalid_request_error'],
  [ErrorCode.ModelNotFound]: [404, 'invalid_request_error'],
  [ErrorCode.Conflict]: [409, 'invalid_request_error'],
  [ErrorCode.IdempotencyKeyReused]: [409, 'invalid_request_error'],
  [ErrorCode.RequestTooLarge]: [413, 'invalid_request_error'],
  [ErrorCode.RateLimited]: [429, 'rate_limit_error'],
  [ErrorCode.UpstreamRateLimited]: [429, 'rate_limit_error'],
  [ErrorCode.UpstreamBadResponse]: [502, 'upstream_error'],
  [ErrorCode.UpstreamError]: [502, 'upstream_error'],
  [ErrorCode.UpstreamAuthError]: [401, 'authentication_error'],
  [ErrorCode.UpstreamUnavailable]: [503, 'service_unavailable_error'],
  [ErrorCode.NoAvailableProvider]: [503, 'service_unavailable_error'],
  [ErrorCode.BillingUnavailable]: [503, 'service_unavailable_error'],
  [ErrorCode.ServiceUnavailable]: [503, 'service_unavailable_error'],
  [ErrorCode.UpstreamTimeout]: [504, 'upstream_error'],
  [ErrorCode.StreamIncomplete]: [502, 'upstream_error'],
  [ErrorCode.StreamIdleTimeout]: [504, 'upstream_error'],
  [ErrorCode.Internal]: [500, 'api_error'],
};

export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

export interface DescribedError {
  status: number;
  body: OpenAiErrorBody;
  headers: Record<string, string>;
}

/** Turns any thrown value into the status, OpenAI-shaped body and headers a client sees. */
export function describeError(err: unknown): DescribedError {
  const e = err instanceof DomainError ? err : new DomainError(ErrorCode.Internal, 'Internal error');
  const [status, type] = TABLE[e.code];
  const headers: Record<string, string> = {};
  if (e.details.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(e.details.retryAfterSeconds)));
  return { status, headers, body: { error: { message: e.message, type, code: e.code, param: e.details.param ?? null } } };
}

export function statusOf(code: ErrorCode): number {
  return TABLE[code][0];
}
