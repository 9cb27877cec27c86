import { DomainError, ErrorCode } from '@gw/core';
import type { JsonObject } from './openai.types';
import { isRecord } from './upstream-errors';

/**
 * An assistant tool call's `arguments` (a JSON text from the client's history) as the object the
 * Anthropic and Gemini formats need; empty means no arguments. Bad JSON is the client's 400.
 */
export function parseToolArguments(args: string, param: string): JsonObject {
  if (args.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    throw new DomainError(ErrorCode.InvalidBody, 'tool call arguments are not valid JSON', { param, retryable: false });
  }
  if (!isRecord(v)) throw new DomainError(ErrorCode.InvalidBody, 'tool call arguments must be a JSON object', { param, retryable: false });
  return v as JsonObject;
}
