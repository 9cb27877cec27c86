/**
 * Coded domain errors. They carry no HTTP knowledge: the edge filters (gateway, admin) map the
 * code to a status and the client's error shape through `describeError` in http-errors.ts.
 */
export enum ErrorCode {
  InvalidJson = 'invalid_json',
  /** The body is not valid UTF-8, or a string in it holds a lone surrogate (reliability T11). */
  InvalidUtf8 = 'invalid_utf8',
  InvalidBody = 'invalid_body',
  UnsupportedParameter = 'unsupported_parameter',
  ContextLengthExceeded = 'context_length_exceeded',
  InvalidApiKey = 'invalid_api_key',
  Unauthorized = 'unauthorized',
  InsufficientCredits = 'insufficient_credits',
  RequestExceedsBudget = 'request_exceeds_budget',
  Forbidden = 'forbidden',
  ModelNotAllowed = 'model_not_allowed',
  NotFound = 'not_found',
  ModelNotFound = 'model_not_found',
  Conflict = 'conflict',
  IdempotencyKeyReused = 'idempotency_key_reused',
  RequestTooLarge = 'request_too_large',
  RateLimited = 'rate_limit_exceeded',
  UpstreamBadResponse = 'upstream_bad_response',
  UpstreamError = 'upstream_error',
  /** The provider refused the tenant's own (BYOK) key. */
  UpstreamAuthError = 'upstream_auth_error',
  UpstreamTimeout = 'upstream_timeout',
  UpstreamRateLimited = 'upstream_rate_limited',
  UpstreamUnavailable = 'upstream_unavailable',
  NoAvailableProvider = 'no_available_provider',
  BillingUnavailable = 'billing_unavailable',
  /** A dependency the request needs (the database behind the key and tenant caches) is unreachable. */
  ServiceUnavailable = 'service_unavailable',
  StreamIncomplete = 'stream_incomplete',
  /** A stream that began sent no content for the idle timeout (keep-alives do not count). */
  StreamIdleTimeout = 'stream_idle_timeout',
  Internal = 'internal_error',
}

export interface ErrorDetails {
  /** The request field the error is about, when known. */
  param?: string;
  /** Seconds the client should wait before retrying (429, 503, some 402). */
  retryAfterSeconds?: number;
  /** Upstream status, kept for logs and for mapping pass-through client errors. */
  upstreamStatus?: number;
  /** Whether a retry against the same or another upstream may succeed. */
  retryable?: boolean;
  /** Free-form facts for the caller (never secrets). */
  meta?: Record<string, unknown>;
}

/** The one 401 message for any key or token that does not authenticate: no case tells another apart. */
export const INVALID_API_KEY_MESSAGE = 'Invalid API key';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
