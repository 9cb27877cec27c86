import { ErrorCode } from '@gw/core';
import { mapErrorPayload, mapUpstreamError, parseRetryAfter, parseUpstreamErrorBody, sanitizeUpstreamMessage } from './upstream-errors';

const map = (status: number, body: string, headers: Record<string, string> = {}) =>
  mapUpstreamError({ provider: 'p', status, body: parseUpstreamErrorBody(body), headers });

describe('parseRetryAfter', () => {
  it('reads seconds, milliseconds and HTTP dates', () => {
    expect(parseRetryAfter({ 'retry-after': '7' })).toBe(7);
    expect(parseRetryAfter({ 'Retry-After': '1.5' })).toBe(1.5);
    expect(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '9' })).toBe(0.25);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now)).toBe(30);
    expect(parseRetryAfter({ 'retry-after': 'Thu, 01 Jan 2025 00:00:30 GMT' }, now)).toBe(0);
    expect(parseRetryAfter({ 'retry-after': 'soon' })).toBeUndefined();
    expect(parseRetryAfter({})).toBeUndefined();
  });
});

describe('parseUpstreamErrorBody', () => {
  it.each([
    ['openai', '{"error":{"message":"bad","type":"invalid_request_error","param":"x","code":"c"}}', { message: 'bad', type: 'invalid_request_error', code: 'c' }],
    ['anthropic', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"r"}', { message: 'Overloaded', type: 'overloaded_error' }],
    ['string error', '{"error":"nope"}', { message: 'nope' }],
    ['detail', '{"detail":"Not found"}', { message: 'Not found' }],
    ['plain text', 'upstream exploded', { message: 'upstream exploded' }],
    ['html', '<html>502</html>', {}],
  ])('%s', (_n, body, expected) => {
    expect(parseUpstreamErrorBody(body)).toEqual(expected);
  });
});

describe('mapUpstreamError', () => {
  it.each([
    [429, ErrorCode.UpstreamRateLimited, true],
    [500, ErrorCode.UpstreamError, true],
    [502, ErrorCode.UpstreamError, true],
    [503, ErrorCode.UpstreamUnavailable, true],
    [529, ErrorCode.UpstreamUnavailable, true],
    [504, ErrorCode.UpstreamTimeout, true],
    [408, ErrorCode.UpstreamTimeout, true],
    [409, ErrorCode.UpstreamError, true],
    [402, ErrorCode.UpstreamError, true],
    [400, ErrorCode.InvalidBody, false],
    [404, ErrorCode.NotFound, false],
    [422, ErrorCode.InvalidBody, false],
    [413, ErrorCode.RequestTooLarge, false],
    [401, ErrorCode.UpstreamError, false],
    [403, ErrorCode.UpstreamError, false],
  ])('HTTP %i -> %s (retryable %s)', (status, code, retryable) => {
    const e = map(status, '{"error":{"message":"m"}}');
    expect(e.code).toBe(code);
    expect(e.details.retryable).toBe(retryable);
    expect(e.details.upstreamStatus).toBe(status);
  });

  it('parses Retry-After on 429 and 503', () => {
    expect(map(429, '{}', { 'retry-after': '12' }).details.retryAfterSeconds).toBe(12);
    expect(map(503, '{}', { 'retry-after': '3' }).details.retryAfterSeconds).toBe(3);
  });

  it('passes the upstream message through for client errors', () => {
    const e = map(400, '{"error":{"message":"messages: roles must alternate","type":"invalid_request_error"}}');
    expect(e.message).toBe('messages: roles must alternate');
  });

  it('never echoes upstream text (which may quote the key) on auth failures', () => {
    const e = map(401, '{"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnop"}}');
    expect(e.message).not.toContain('sk-');
    expect(JSON.stringify(e.details)).not.toContain('sk-');
    expect(e.details.meta).toMatchObject({ upstreamAuth: true });
  });

  it('maps context-length failures to their own code', () => {
    expect(map(400, '{"error":{"message":"This model\'s maximum context length is 8192 tokens"}}').code).toBe(ErrorCode.ContextLengthExceeded);
    expect(map(400, '{"error":{"message":"x","code":"context_length_exceeded"}}').code).toBe(ErrorCode.ContextLengthExceeded);
    expect(map(400, '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}').code).toBe(
      ErrorCode.ContextLengthExceeded,
    );
  });

  it('honours x-should-retry', () => {
    expect(map(500, '{}', { 'x-should-retry': 'false' }).details.retryable).toBe(false);
    expect(map(400, '{}', { 'x-should-retry': 'true' }).details.retryable).toBe(false);
  });

  it('flags quota exhaustion, which a retry on the same key does not fix', () => {
    const quota = map(429, '{"error":{"message":"quota","type":"insufficient_quota"}}');
    expect(quota.details.meta).toMatchObject({ reason: 'insufficient_quota' });
    expect(quota.details.retryable).toBe(false);
    expect(map(429, '{"error":{"message":"slow down","type":"requests"}}').details.retryable).toBe(true);
  });
});

describe('mapErrorPayload', () => {
  it('uses a numeric code as the status and is retryable only before any output', () => {
    const before = mapErrorPayload('p', { error: { message: 'rate', code: 429 } }, { inStream: true, nothingSent: true });
    expect(before.code).toBe(ErrorCode.UpstreamRateLimited);
    expect(before.details.retryable).toBe(true);
    const after = mapErrorPayload('p', { error: { message: 'rate', code: 429 } }, { inStream: true, nothingSent: false });
    expect(after.details.retryable).toBe(false);
  });

  it('uses the error type when there is no numeric code', () => {
    expect(mapErrorPayload('p', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, { inStream: true, nothingSent: true }).code).toBe(
      ErrorCode.UpstreamUnavailable,
    );
    expect(mapErrorPayload('p', { error: { message: 'boom' } }, { inStream: true, nothingSent: true }).code).toBe(ErrorCode.UpstreamError);
  });
});

describe('sanitizeUpstreamMessage', () => {
  it('redacts key-like tokens and bounds the length', () => {
    expect(sanitizeUpstreamMessage('key sk-ant-api03-abcdefgh and Bearer abcdefghijklmnop')).toBe('key [redacted] and [redacted]');
    expect(sanitizeUpstreamMessage('API key not valid: AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q')).toBe('API key not valid: [redacted]');
    expect(sanitizeUpstreamMessage('x'.repeat(5000))).toHaveLength(1000);
  });
});
