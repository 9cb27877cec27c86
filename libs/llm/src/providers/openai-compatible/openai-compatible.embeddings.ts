import { DomainError, ErrorCode } from '@gw/core';
import { embeddingInputs, encodeEmbedding } from '../../embeddings';
import type { Embedding, EmbeddingsRequest } from '../../openai.types';
import type { EmbeddingsBuildOptions, EmbeddingsContext, ParsedEmbeddings, ProviderTarget, UpstreamHttpRequest } from '../../provider';
import { stripUnsupported } from '../../unsupported-params';
import { isOpenAiUsage, openAiUsageToTokenUsage } from '../../openai-usage';
import { isRecord, mapErrorPayload } from '../../upstream-errors';
import { upstreamUrl } from '../../url';
import type { EmbeddingsSpec, ResolvedSpec } from './openai-compatible.config';

/** OpenAI `POST /embeddings` for every compatible vendor that has it; the spec carries the differences. */
export function buildOpenAiEmbeddingsRequest(
  spec: ResolvedSpec,
  emb: EmbeddingsSpec,
  req: EmbeddingsRequest,
  target: ProviderTarget,
  opts: EmbeddingsBuildOptions,
): UpstreamHttpRequest {
  embeddingInputs(req);
  const body: Record<string, unknown> = { ...req, model: target.upstreamModel };
  for (const f of emb.ignored ?? []) delete body[f];
  stripUnsupported(spec.id, body, emb.unsupported ?? [], opts.unsupportedParams);
  // Vendors without base64 get floats; parseOpenAiEmbeddingsResponse encodes for the client.
  if (!emb.base64) delete body.encoding_format;
  for (const [from, to] of Object.entries(emb.renames ?? {})) {
    if (to !== undefined && body[from] !== undefined) {
      body[to] = body[from];
      delete body[from];
    }
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...spec.extraHeaders };
  if (spec.auth.kind === 'bearer') headers.authorization = `Bearer ${target.apiKey}`;
  else headers[spec.auth.name] = target.apiKey;
  return { url: upstreamUrl(target.baseUrl, emb.path ?? '/embeddings', target.upstreamModel, spec.query), headers, body: JSON.stringify(body) };
}

export function parseOpenAiEmbeddingsResponse(provider: string, body: unknown, ctx: EmbeddingsContext): ParsedEmbeddings {
  if (!isRecord(body)) throw bad(provider, 'response is not a JSON object');
  if (body.error !== undefined && body.error !== null) throw mapErrorPayload(provider, body, { inStream: false, nothingSent: true });
  if (!Array.isArray(body.data)) throw bad(provider, 'response has no data array');
  const data: Embedding[] = body.data.map((item: unknown, i: number) => {
    if (!isRecord(item)) throw bad(provider, 'embedding is not an object');
    const vec = item.embedding;
    const ok = typeof vec === 'string' || (Array.isArray(vec) && vec.every((x) => typeof x === 'number'));
    if (!ok) throw bad(provider, 'embedding is neither floats nor base64');
    return { object: 'embedding', index: typeof item.index === 'number' ? item.index : i, embedding: encodeEmbedding(vec as number[] | string, ctx.encodingFormat) };
  });
  data.sort((a, b) => a.index - b.index);
  const raw = body.usage;
  // Embedding usage has prompt/total only; the reader treats the absent completion as 0.
  const usage = isOpenAiUsage(raw) ? openAiUsageToTokenUsage(raw) : undefined;
  const promptTokens = usage?.promptTokens ?? 0;
  const response = { object: 'list' as const, data, model: ctx.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
  return usage === undefined ? { response } : { response, usage };
}

function bad(provider: string, detail: string): DomainError {
  return new DomainError(ErrorCode.UpstreamBadResponse, `Provider ${provider} returned an unusable response`, {
    retryable: true,
    meta: { provider, detail },
  });
}
