import { DomainError, ErrorCode } from '@gw/core';
import { toDataUrl } from '../data-url';
import type { CacheControl, TextPart, UserContentPart } from '../openai.types';
import { isRecord } from '../upstream-errors';

/**
 * The content blocks of an Anthropic Messages request (text, image, document, search result) as
 * canonical OpenAI parts, and the field checks the request mapping shares. Errors name the field
 * in Anthropic's dotted form (`messages.2.content.0.source`).
 */

export function textPart(b: unknown, at: string): TextPart {
  if (!isRecord(b) || b.type !== 'text') throw invalid(at, `${at}: expected a text block`);
  const part: TextPart = { type: 'text', text: stringField(b, 'text', at, true) };
  const cache = cacheControl(b.cache_control);
  if (cache !== undefined) part.cache_control = cache;
  return part;
}

export function imagePart(b: Record<string, unknown>, at: string): UserContentPart {
  const src = b.source;
  if (!isRecord(src)) throw invalid(`${at}.source`, `${at}.source: Field required`);
  if (src.type === 'base64') {
    const mediaType = stringField(src, 'media_type', `${at}.source`);
    return { type: 'image_url', image_url: { url: toDataUrl(mediaType, stringField(src, 'data', `${at}.source`)) } };
  }
  if (src.type === 'url') return { type: 'image_url', image_url: { url: stringField(src, 'url', `${at}.source`) } };
  throw unsupported(`${at}.source.type`, `image source type '${String(src.type)}' (only base64 and url)`);
}

export function documentPart(b: Record<string, unknown>, at: string): UserContentPart {
  const src = b.source;
  if (!isRecord(src)) throw invalid(`${at}.source`, `${at}.source: Field required`);
  const title = typeof b.title === 'string' && b.title !== '' ? b.title : undefined;
  if (src.type === 'base64') {
    const mediaType = stringField(src, 'media_type', `${at}.source`);
    return { type: 'file', file: { file_data: toDataUrl(mediaType, stringField(src, 'data', `${at}.source`)), filename: title ?? 'document.pdf' } };
  }
  if (src.type === 'text') {
    const text = stringField(src, 'data', `${at}.source`, true);
    return { type: 'text', text: title === undefined ? text : `${title}\n\n${text}` };
  }
  if (src.type === 'content' && Array.isArray(src.content)) {
    const text = src.content.map((c, k) => textPart(c, `${at}.source.content.${k}`).text).join('\n');
    return { type: 'text', text: title === undefined ? text : `${title}\n\n${text}` };
  }
  throw unsupported(`${at}.source.type`, `document source type '${String(src.type)}' (only base64, text and content)`);
}

export function searchResultParts(b: Record<string, unknown>, at: string): TextPart[] {
  const title = typeof b.title === 'string' ? b.title : '';
  const source = typeof b.source === 'string' ? b.source : '';
  const body = Array.isArray(b.content) ? b.content.map((c, k) => textPart(c, `${at}.content.${k}`).text).join('\n') : '';
  const head = [title, source].filter((s) => s !== '').join(' — ');
  return [{ type: 'text', text: head === '' ? body : `${head}\n${body}` }];
}

export function cacheControl(v: unknown): CacheControl | undefined {
  if (!isRecord(v) || v.type !== 'ephemeral') return undefined;
  return v.ttl === '5m' || v.ttl === '1h' ? { type: 'ephemeral', ttl: v.ttl } : { type: 'ephemeral' };
}

export function stringField(obj: Record<string, unknown>, key: string, at: string, allowEmpty = false): string {
  const v = obj[key];
  if (typeof v !== 'string' || (!allowEmpty && v === '')) throw invalid(`${at}.${key}`, `${at}.${key}: Field required`);
  return v;
}

export function invalid(param: string, message: string): DomainError {
  return new DomainError(ErrorCode.InvalidBody, message, { param, retryable: false });
}

export function unsupported(param: string, what: string): DomainError {
  return new DomainError(ErrorCode.UnsupportedParameter, `Not supported on /v1/messages through the gateway: ${what}`, { param, retryable: false });
}
