import { DomainError, ErrorCode } from '@gw/core';
import type { AnthropicErrorBody, AnthropicEventOut } from './anthropic-inbound.types';

/**
 * Gateway errors in Anthropic's shape for `/v1/messages` clients (wire-formats.md §2.10, §4.10).
 * One table from code to (status, Anthropic `error.type`), the counterpart of core's
 * `describeError` for the OpenAI surface. A provider refusing a key the tenant stored (BYOK,
 * `UpstreamAuthError`) is a server-side error here (500 `api_error`, the message naming that key):
 * a 401 `authentication_error` tells Claude Code and the SDK that the key they present to the
 * gateway is wrong, and Claude Code then asks its user to log in again. Unavailability is
 * Anthropic's 529 `overloaded_error`, which the SDK retries.
 */
const TABLE: Record<ErrorCode, [status: number, type: string]> = {
  [ErrorCode.InvalidJson]: [400, 'invalid_request_error'],
  [ErrorCode.InvalidUtf8]: [400, 'invalid_request_error'],
  [ErrorCode.InvalidBody]: [400, 'invalid_request_error'],
  [ErrorCode.UnsupportedParameter]: [400, 'invalid_request_error'],
  [ErrorCode.ContextLengthExceeded]: [400, 'invalid_request_error'],
  [ErrorCode.InvalidApiKey]: [401, 'authentication_error'],
  [ErrorCode.Unauthorized]: [401, 'authentication_error'],
  [ErrorCode.InsufficientCredits]: [402, 'billing_error'],
  [ErrorCode.RequestExceedsBudget]: [402, 'billing_error'],
  [ErrorCode.Forbidden]: [403, 'permission_error'],
  [ErrorCode.ModelNotAllowed]: [403, 'permission_error'],
  [ErrorCode.NotFound]: [404, 'not_found_error'],
  [ErrorCode.ModelNotFound]: [404, 'not_found_error'],
  [ErrorCode.Conflict]: [409, 'conflict_error'],
  [ErrorCode.IdempotencyKeyReused]: [409, 'conflict_error'],
  [ErrorCode.RequestTooLarge]: [413, 'request_too_large'],
  [ErrorCode.RateLimited]: [429, 'rate_limit_error'],
  [ErrorCode.UpstreamRateLimited]: [429, 'rate_limit_error'],
  [ErrorCode.UpstreamBadResponse]: [500, 'api_error'],
  [ErrorCode.UpstreamError]: [500, 'api_error'],
  [ErrorCode.UpstreamAuthError]: [500, 'api_error'],
  [ErrorCode.StreamIncomplete]: [500, 'api_error'],
  [ErrorCode.Internal]: [500, 'api_error'],
  [ErrorCode.BillingUnavailable]: [500, 'api_error'],
  [ErrorCode.ServiceUnavailable]: [529, 'overloaded_error'],
  [ErrorCode.UpstreamTimeout]: [504, 'timeout_error'],
  [ErrorCode.StreamIdleTimeout]: [504, 'timeout_error'],
  [ErrorCode.UpstreamUnavailable]: [529, 'overloaded_error'],
  [ErrorCode.NoAvailableProvider]: [529, 'overloaded_error'],
};

export interface AnthropicDescribedError {
  status: number;
  body: AnthropicErrorBody;
  headers: Record<string, string>;
}

/** Any thrown value -> status, Anthropic error body and headers (`retry-after`, `request-id`). */
export function toAnthropicError(err: unknown, requestId?: string): AnthropicDescribedError {
  const e = err instanceof DomainError ? err : new DomainError(ErrorCode.Internal, 'Internal error');
  const [status, type] = TABLE[e.code];
  const headers: Record<string, string> = {};
  if (e.details.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(e.details.retryAfterSeconds)));
  if (requestId !== undefined) headers['request-id'] = requestId;
  const body: AnthropicErrorBody = { type: 'error', error: { type, message: e.message } };
  if (requestId !== undefined) body.request_id = requestId;
  return { status, body, headers };
}

/** The in-stream form: `event: error` with `{"type":"error","error":{...}}`, which the SDK throws as APIError. */
export function anthropicErrorEvent(err: unknown): AnthropicEventOut & { type: 'error' } {
  return { type: 'error', error: toAnthropicError(err).body.error };
}

export function anthropicStatusOf(code: ErrorCode): number {
  return TABLE[code][0];
}
