import { DomainError, ErrorCode } from '@gw/core';
import type { EmbeddingsRequest } from './openai.types';

/**
 * Embedding helpers shared by the adapters: OpenAI's `encoding_format: "base64"` is the bytes of
 * little-endian float32 values (openai-node decodes it that way in `embeddings.ts`).
 */

export function floatsToBase64(values: readonly number[]): string {
  const buf = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i], i * 4);
  return buf.toString('base64');
}

export function base64ToFloats(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  const out = new Array<number>(Math.floor(buf.length / 4));
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

/** One vector in the encoding the client asked for, whatever the upstream sent. */
export function encodeEmbedding(vector: readonly number[] | string, format: 'float' | 'base64' | undefined): number[] | string {
  if (format === 'base64') return typeof vector === 'string' ? vector : floatsToBase64(vector);
  return typeof vector === 'string' ? base64ToFloats(vector) : [...vector];
}

/**
 * The inputs of an embeddings request as a list: one string, strings, one token array or token
 * arrays. Anything else is a 400 naming `input`.
 */
export function embeddingInputs(req: EmbeddingsRequest): { texts: string[] } | { tokens: number[][] } {
  const input: unknown = req.input;
  if (typeof input === 'string') return { texts: [input] };
  if (!Array.isArray(input) || input.length === 0) throw badInput('input must be a non-empty string or array');
  if (input.every((v) => typeof v === 'string')) return { texts: input as string[] };
  if (input.every((v) => typeof v === 'number')) return { tokens: [input as number[]] };
  if (input.every((v) => Array.isArray(v) && v.every((t) => typeof t === 'number'))) return { tokens: input as number[][] };
  throw badInput('input must be a string, an array of strings, or token arrays');
}

function badInput(message: string): DomainError {
  return new DomainError(ErrorCode.InvalidBody, message, { param: 'input', retryable: false });
}
