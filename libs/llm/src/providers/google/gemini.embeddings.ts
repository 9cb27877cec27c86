import { DomainError, ErrorCode } from '@gw/core';
import { embeddingInputs, encodeEmbedding } from '../../embeddings';
import type { Embedding, EmbeddingsRequest } from '../../openai.types';
import type { EmbeddingsContext, ParsedEmbeddings } from '../../provider';
import { unsupportedParameter } from '../../unsupported-params';
import { isRecord, mapErrorPayload } from '../../upstream-errors';

/**
 * OpenAI embeddings -> Gemini `embedContent` (one text) or `batchEmbedContents` (several), per
 * wire-formats.md §3.1. `dimensions` is `outputDimensionality`; token-id inputs have no Gemini form.
 * Gemini reports no token usage for embeddings: the gateway then estimates. `user` has no field
 * and `encoding_format` is applied when parsing, so no parameter is ever refused here.
 */
/** `batchEmbedContents` refuses more requests than this in one batch (HTTP 400). */
const GEMINI_MAX_BATCH = 100;

export interface GeminiEmbeddingsCall {
  method: 'embedContent' | 'batchEmbedContents';
  body: object;
}

export function buildGeminiEmbeddings(provider: string, req: EmbeddingsRequest, modelResource: string): GeminiEmbeddingsCall {
  const inputs = embeddingInputs(req);
  if (!('texts' in inputs)) {
    // Token arrays are never droppable: without them there is nothing to embed.
    throw unsupportedParameter(provider, 'input', 'token-id inputs');
  }
  if (inputs.texts.length > GEMINI_MAX_BATCH) {
    throw new DomainError(ErrorCode.InvalidBody, `${provider} embeds at most ${GEMINI_MAX_BATCH} inputs per request; send ${inputs.texts.length} in several requests`, { param: 'input', retryable: false });
  }
  const dims = typeof req.dimensions === 'number' ? { outputDimensionality: req.dimensions } : {};
  const content = (text: string) => ({ parts: [{ text }] });
  if (inputs.texts.length === 1) return { method: 'embedContent', body: { content: content(inputs.texts[0]), ...dims } };
  return { method: 'batchEmbedContents', body: { requests: inputs.texts.map((t) => ({ model: modelResource, content: content(t), ...dims })) } };
}

export function parseGeminiEmbeddings(provider: string, body: unknown, ctx: EmbeddingsContext): ParsedEmbeddings {
  if (!isRecord(body)) throw bad(provider, 'response is not a JSON object');
  if (body.error !== undefined && body.error !== null) throw mapErrorPayload(provider, body, { inStream: false, nothingSent: true });
  const raw: unknown[] = Array.isArray(body.embeddings) ? body.embeddings : isRecord(body.embedding) ? [body.embedding] : [];
  if (raw.length === 0) throw bad(provider, 'response has no embeddings');
  const data: Embedding[] = raw.map((e, index) => {
    const values = isRecord(e) ? e.values : undefined;
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) throw bad(provider, 'embedding without values');
    return { object: 'embedding', index, embedding: encodeEmbedding(values as number[], ctx.encodingFormat) };
  });
  const meta = body.usageMetadata;
  const tokens = isRecord(meta) && typeof meta.promptTokenCount === 'number' ? meta.promptTokenCount : undefined;
  const response = { object: 'list' as const, data, model: ctx.model, usage: { prompt_tokens: tokens ?? 0, total_tokens: tokens ?? 0 } };
  if (tokens === undefined) return { response };
  return { response, usage: { promptTokens: tokens, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 0, reasoningTokens: 0 } };
}

function bad(provider: string, detail: string): DomainError {
  return new DomainError(ErrorCode.UpstreamBadResponse, `Provider ${provider} returned an unusable response`, {
    retryable: true,
    meta: { provider, detail },
  });
}
