import type { DomainError } from '@gw/core';
import { isRecord, mapUpstreamError, type HeaderBag, type UpstreamErrorBody } from '../../upstream-errors';

/**
 * Gemini error bodies: `{"error":{"code":400,"message":"...","status":"INVALID_ARGUMENT",
 * "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}`
 * (wire-formats.md §3.9). Mapping per §4.10.
 */
export interface GeminiErrorBody extends UpstreamErrorBody {
  /** `ErrorInfo.reason`, e.g. API_KEY_INVALID. */
  reason?: string;
}

export function parseGeminiErrorBody(text: string): GeminiErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const t = text.trim();
    return t === '' || t.startsWith('<') ? {} : { message: t.slice(0, 500) };
  }
  // streamGenerateContent without alt=sse answers errors as a one-element array.
  if (Array.isArray(json)) json = json[0];
  if (!isRecord(json)) return {};
  const err = isRecord(json.error) ? json.error : json;
  const out: GeminiErrorBody = {};
  if (typeof err.message === 'string') out.message = err.message;
  if (typeof err.status === 'string') out.type = err.status;
  if (Array.isArray(err.details)) {
    for (const d of err.details) if (isRecord(d) && typeof d.reason === 'string') out.reason = d.reason;
  }
  if (out.reason !== undefined) out.code = out.reason;
  return out;
}

/** The input is longer than the model's context ("input token count ... exceeds the maximum number of tokens allowed"). */
const CONTEXT_LENGTH = /exceeds the maximum number of tokens|input token count/i;

export function mapGeminiError(provider: string, status: number, text: string, headers: HeaderBag): DomainError {
  const body = parseGeminiErrorBody(text);
  let effective = status;
  // An invalid key is a 400 on Gemini; it is an authentication failure (§3.9, §4.10).
  if (status === 400 && (body.reason === 'API_KEY_INVALID' || /api key (?:not valid|expired)/i.test(body.message ?? ''))) effective = 401;
  if (effective === 400 && CONTEXT_LENGTH.test(body.message ?? '')) body.code = 'context_length_exceeded';
  const mapped = mapUpstreamError({ provider, status: effective, body, headers });
  if (effective !== status) mapped.details.meta = { ...mapped.details.meta, upstreamHttpStatus: status };
  return mapped;
}
