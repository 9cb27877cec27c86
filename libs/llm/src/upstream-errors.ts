import { DomainError, ErrorCode } from '@gw/core';

/**
 * Upstream HTTP failures -> DomainError with `retryable`. Shared by every adapter: providers differ
 * only in how they spell the body, which `parseUpstreamErrorBody` reads.
 * Retry rules follow the official SDKs (openai-node and @anthropic-ai/sdk `client.js`: 408, 409,
 * 429 and >=500 are retried unless the response says `x-should-retry: false`).
 */

export type HeaderBag = Record<string, string | string[] | undefined>;

export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const direct = headers[name];
  const v = direct !== undefined ? direct : findHeader(headers, name);
  return Array.isArray(v) ? v[0] : v;
}

function findHeader(headers: HeaderBag, lower: string): string | string[] | undefined {
  for (const k of Object.keys(headers)) if (k.toLowerCase() === lower) return headers[k];
  return undefined;
}

/** `retry-after-ms` (OpenAI), then `retry-after` as seconds or an HTTP date. */
export function parseRetryAfter(headers: HeaderBag, nowMs: number = Date.now()): number | undefined {
  const ms = headerValue(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n / 1000;
  }
  const raw = headerValue(headers, 'retry-after');
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - nowMs) / 1000);
}

export interface UpstreamErrorBody {
  message?: string;
  /** OpenAI `error.type` / Anthropic `error.type`. */
  type?: string;
  code?: string;
}

/** Reads OpenAI, Anthropic and the common ad-hoc error bodies (`{message}`, `{detail}`, `{error:"..."}`). */
export function parseUpstreamErrorBody(body: string): UpstreamErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const text = body.trim();
    if (text === '' || text.startsWith('<')) return {};
    return { message: text.slice(0, 500) };
  }
  return readErrorObject(json);
}

export function readErrorObject(json: unknown): UpstreamErrorBody {
  if (!isRecord(json)) return {};
  const err = json.error;
  if (typeof err === 'string') return { message: err };
  const src = isRecord(err) ? err : json;
  const out: UpstreamErrorBody = {};
  const message = src.message ?? src.detail ?? json.message ?? json.detail;
  if (typeof message === 'string') out.message = message;
  else if (isRecord(message) || Array.isArray(message)) out.message = JSON.stringify(message).slice(0, 500);
  if (typeof src.type === 'string') out.type = src.type;
  const code = src.code ?? src.status;
  if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
  return out;
}

/** Provider error `type` values that say which status the failure stands for. */
const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  insufficient_quota: 429,
  api_error: 500,
  server_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

export function statusForErrorType(type: string | undefined): number | undefined {
  return type === undefined ? undefined : STATUS_BY_TYPE[type];
}

// Prefixed keys (OpenAI, Anthropic, Groq, xAI, ...), Google API keys (AIza + 35), bearer tokens.
const SECRET_LIKE = /\b(?:sk|pk|rk|gsk|xai|pplx|fw|key|api)[-_][A-Za-z0-9_-]{6,}|\bAIza[A-Za-z0-9_-]{30,}|\b(?:Bearer\s+)[A-Za-z0-9._~+/-]{8,}/gi;
const CONTEXT_LENGTH = /context[ _-]?(?:length|window)|maximum context|prompt is too long|too many (?:input )?tokens/i;

/** Strips key-like tokens and bounds the length of upstream text before it reaches a client or a log. */
export function sanitizeUpstreamMessage(message: string): string {
  return message.replace(SECRET_LIKE, '[redacted]').slice(0, 1000);
}

export interface UpstreamFailure {
  /** Provider id, for messages. */
  provider: string;
  status: number;
  body: UpstreamErrorBody;
  headers: HeaderBag;
}

export function mapUpstreamError(f: UpstreamFailure): DomainError {
  const { provider, status, body, headers } = f;
  const upstreamMessage = body.message ? sanitizeUpstreamMessage(body.message) : undefined;
  const retryAfterSeconds = parseRetryAfter(headers);
  const should = headerValue(headers, 'x-should-retry');
  const retry = (dflt: boolean): boolean => (should === 'false' ? false : should === 'true' ? true : dflt);
  const meta: Record<string, unknown> = { provider };
  if (body.type) meta.upstreamType = body.type;
  if (body.code) meta.upstreamCode = body.code;
  if (upstreamMessage) meta.upstreamMessage = upstreamMessage;
  const base = { upstreamStatus: status, meta };

  if (status === 401 || status === 403) {
    // The platform's (or tenant's BYOK) key was refused: never retry with it, never echo upstream text.
    meta.upstreamAuth = true;
    delete meta.upstreamMessage;
    return new DomainError(ErrorCode.UpstreamError, `Provider ${provider} rejected the credentials (HTTP ${status})`, { ...base, retryable: false });
  }
  if (status === 429) {
    // An exhausted quota does not come back in a retry's backoff; the caller moves on to another key or provider.
    const quota = body.type === 'insufficient_quota' || body.code === 'insufficient_quota';
    if (quota) meta.reason = 'insufficient_quota';
    return new DomainError(ErrorCode.UpstreamRateLimited, quota ? `Provider ${provider} says the account's quota is exhausted` : `Provider ${provider} is rate limiting requests`, {
      ...base,
      retryable: retry(!quota),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  }
  if (status === 408 || status === 504) {
    return new DomainError(ErrorCode.UpstreamTimeout, `Provider ${provider} timed out (HTTP ${status})`, { ...base, retryable: retry(true) });
  }
  if (status === 503 || status === 529) {
    return new DomainError(ErrorCode.UpstreamUnavailable, `Provider ${provider} is overloaded (HTTP ${status})`, {
      ...base,
      retryable: retry(true),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  }
  if (status >= 500) {
    return new DomainError(ErrorCode.UpstreamError, `Provider ${provider} failed (HTTP ${status})`, { ...base, retryable: retry(true) });
  }
  if (status === 402 || status === 409) {
    // 402: the platform's own account with the provider is out of credit; another route may work.
    return new DomainError(ErrorCode.UpstreamError, `Provider ${provider} refused the request (HTTP ${status})`, { ...base, retryable: retry(true) });
  }
  if (status === 404) {
    // Usually the upstream model id (retired, or a wrong catalog entry) or the endpoint's path: the
    // provider's own answer, with its status; another provider of the model may still serve it.
    meta.reason = 'upstream_not_found';
    return new DomainError(ErrorCode.NotFound, upstreamMessage ?? `Provider ${provider} does not know the requested model or endpoint (HTTP 404)`, { ...base, retryable: false });
  }
  if (status === 413) {
    return new DomainError(ErrorCode.RequestTooLarge, upstreamMessage ?? `Request too large for provider ${provider}`, { ...base, retryable: false });
  }
  const message = upstreamMessage ?? `Provider ${provider} rejected the request (HTTP ${status})`;
  if (body.code === 'context_length_exceeded' || (upstreamMessage !== undefined && CONTEXT_LENGTH.test(upstreamMessage))) {
    return new DomainError(ErrorCode.ContextLengthExceeded, message, { ...base, retryable: false });
  }
  return new DomainError(ErrorCode.InvalidBody, message, { ...base, retryable: false });
}

/**
 * An error carried in a body rather than by the HTTP status: inside a 200 stream (OpenAI
 * `data: {"error":...}`, Anthropic `event: error`) or a 200 JSON body with an `error` key.
 */
export function mapErrorPayload(provider: string, payload: unknown, opts: { inStream: boolean; nothingSent: boolean }): DomainError {
  const body = readErrorObject(payload);
  const numeric = body.code !== undefined && /^\d{3}$/.test(body.code) ? Number(body.code) : undefined;
  const status = numeric ?? statusForErrorType(body.type) ?? 502;
  const mapped = mapUpstreamError({ provider, status, body, headers: {} });
  // After bytes reached the client nothing may be retried (commit point, reliability.md I5).
  mapped.details.retryable = opts.nothingSent && mapped.details.retryable === true;
  if (opts.inStream) mapped.details.meta = { ...mapped.details.meta, inStream: true };
  return mapped;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
