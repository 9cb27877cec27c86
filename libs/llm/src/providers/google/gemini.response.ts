import { DomainError, ErrorCode, type TokenUsage } from '@gw/core';
import { usageToOpenAi } from '../../openai-usage';
import type { ChatChoice, ChatCompletion, ChoiceLogprobs, FinishReason, ReasoningDetail, ResponseMessage, ToolCall } from '../../openai.types';
import type { ParsedCompletion, ResponseContext } from '../../provider';
import { isRecord, mapErrorPayload } from '../../upstream-errors';
import { fromGeminiName, syntheticCallId } from './gemini.tools';
import { GEMINI_REASONING_FORMAT, type GeminiCandidate, type GeminiLogprobsResult, type GeminiPart, type GeminiUsageMetadata } from './gemini.types';

/** Finish reasons meaning the model's output was blocked (wire-formats.md §4.4). */
const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII']);
/** The model tried to call a tool and failed: no OpenAI equivalent. */
const FAILED_CALL = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS']);

/**
 * §4.4. Gemini reports STOP for tool calls, so `sawToolCall` (any functionCall of this candidate,
 * across chunks) decides. LANGUAGE, OTHER, MALFORMED_RESPONSE and unknown values count as `stop`.
 */
export function mapFinishReason(reason: string, sawToolCall: boolean): FinishReason {
  if (reason === 'STOP') return sawToolCall ? 'tool_calls' : 'stop';
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason) || reason.startsWith('IMAGE_') || reason === 'NO_IMAGE') return 'content_filter';
  return sawToolCall ? 'tool_calls' : 'stop';
}

export function isFailedToolCall(reason: string): boolean {
  return FAILED_CALL.has(reason);
}

/** The gateway's choice for a failed call with no output (§4.4): a retryable error before the first byte. */
export function failedToolCall(provider: string, reason: string, retryable: boolean): DomainError {
  return new DomainError(ErrorCode.UpstreamBadResponse, `Provider ${provider} failed to produce a valid tool call (${reason})`, {
    retryable,
    meta: { provider, finishReason: reason },
  });
}

/**
 * §4.6 / §3.6: `promptTokenCount` includes cached content but not `toolUsePromptTokenCount`;
 * `candidatesTokenCount` excludes `thoughtsTokenCount`. OpenAI bases include both.
 */
export function geminiUsageToTokenUsage(u: GeminiUsageMetadata): TokenUsage {
  const prompt = count(u.promptTokenCount) + count(u.toolUsePromptTokenCount);
  const thoughts = count(u.thoughtsTokenCount);
  return {
    promptTokens: prompt,
    cachedTokens: Math.min(count(u.cachedContentTokenCount), prompt),
    cacheWriteTokens: 0,
    completionTokens: count(u.candidatesTokenCount) + thoughts,
    reasoningTokens: thoughts,
  };
}

/** Early stream chunks may carry usage without counts (`{"trafficType":"ON_DEMAND"}`). */
export function hasUsageCounts(u: unknown): u is GeminiUsageMetadata {
  if (!isRecord(u)) return false;
  return ['promptTokenCount', 'candidatesTokenCount', 'thoughtsTokenCount', 'totalTokenCount'].some((k) => typeof u[k] === 'number');
}

function count(v: number | null | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

export function mapLogprobs(r: GeminiLogprobsResult | undefined): ChoiceLogprobs | undefined {
  if (r === undefined || !Array.isArray(r.chosenCandidates)) return undefined;
  const top: NonNullable<GeminiLogprobsResult['topCandidates']> = Array.isArray(r.topCandidates) ? r.topCandidates : [];
  return {
    content: r.chosenCandidates.map((c, i) => {
      const token = c.token ?? '';
      return {
        token,
        logprob: c.logProbability ?? 0,
        bytes: [...Buffer.from(token, 'utf8')],
        top_logprobs: (top[i]?.candidates ?? []).map((t) => ({ token: t.token ?? '', logprob: t.logProbability ?? 0, bytes: [...Buffer.from(t.token ?? '', 'utf8')] })),
      };
    }),
    refusal: null,
  };
}

/** What one part means in OpenAI terms; shared by the response parser and the stream transformer. */
export type PartMeaning =
  | { kind: 'text'; text: string; signature?: string }
  | { kind: 'thought'; text: string; signature?: string }
  | { kind: 'call'; call: ToolCall; signature?: string }
  | { kind: 'other'; signature?: string };

/** `k` is the candidate's own tool-call counter (the OpenAI `tool_calls[].index`). */
export function readPart(part: unknown, responseId: string, candidate: number, k: number): PartMeaning {
  if (!isRecord(part)) return { kind: 'other' };
  const p = part as GeminiPart;
  const signature = typeof p.thoughtSignature === 'string' && p.thoughtSignature !== '' ? p.thoughtSignature : undefined;
  const sig = signature === undefined ? {} : { signature };
  if (isRecord(p.functionCall)) {
    const fc = p.functionCall;
    const id = typeof fc.id === 'string' && fc.id !== '' ? fc.id : syntheticCallId(responseId, candidate, k);
    const args = isRecord(fc.args) ? fc.args : {};
    return { kind: 'call', call: { id, type: 'function', function: { name: fromGeminiName(String(fc.name)), arguments: JSON.stringify(args) } }, ...sig };
  }
  if (typeof p.text === 'string') return { kind: p.thought === true ? 'thought' : 'text', text: p.text, ...sig };
  return { kind: 'other', ...sig };
}

/** A signature as a `reasoning_details` item: `id` ties it to its tool call, null means the text. */
export function signatureDetail(signature: string, callId: string | null, index: number): ReasoningDetail {
  return { type: 'reasoning.encrypted', data: signature, format: GEMINI_REASONING_FORMAT, id: callId, index };
}

export function parseGeminiResponse(provider: string, body: unknown, ctx: ResponseContext): ParsedCompletion {
  if (!isRecord(body)) throw bad(provider, 'response is not a JSON object');
  if (body.error !== undefined && body.error !== null) throw mapErrorPayload(provider, body, { inStream: false, nothingSent: true });
  const usage = hasUsageCounts(body.usageMetadata) ? geminiUsageToTokenUsage(body.usageMetadata) : undefined;
  const raw = Array.isArray(body.candidates) ? (body.candidates as unknown[]) : [];

  const choices: ChatChoice[] = [];
  if (raw.length === 0) {
    // A blocked prompt has promptFeedback and no candidates (§3.5).
    const feedback = body.promptFeedback;
    if (!isRecord(feedback) || typeof feedback.blockReason !== 'string') throw bad(provider, 'response has no candidates');
    choices.push({ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'content_filter', logprobs: null });
  }
  const failed: string[] = [];
  raw.forEach((c, position) => {
    if (!isRecord(c)) throw bad(provider, 'candidate is not an object');
    const cand = c as GeminiCandidate;
    const index = typeof cand.index === 'number' ? cand.index : position;
    const { message, sawToolCall, empty } = candidateMessage(cand, ctx.id, index);
    const reason = typeof cand.finishReason === 'string' ? cand.finishReason : 'STOP';
    if (empty && isFailedToolCall(reason)) failed.push(reason);
    const choice: ChatChoice = { index, message, finish_reason: mapFinishReason(reason, sawToolCall), logprobs: mapLogprobs(cand.logprobsResult) ?? null };
    choices.push(choice);
  });
  if (failed.length > 0 && failed.length === raw.length) throw failedToolCall(provider, failed[0], true);
  choices.sort((a, b) => a.index - b.index);

  const completion: ChatCompletion = { id: ctx.id, object: 'chat.completion', created: ctx.created, model: ctx.model, choices };
  if (usage !== undefined) completion.usage = usageToOpenAi(usage);
  return usage === undefined ? { completion } : { completion, usage };
}

function candidateMessage(c: GeminiCandidate, responseId: string, index: number): { message: ResponseMessage; sawToolCall: boolean; empty: boolean } {
  let text = '';
  let reasoning = '';
  const calls: ToolCall[] = [];
  const details: ReasoningDetail[] = [];
  const parts = isRecord(c.content) && Array.isArray(c.content.parts) ? c.content.parts : [];
  for (const part of parts) {
    const m = readPart(part, responseId, index, calls.length);
    if (m.kind === 'call') calls.push(m.call);
    else if (m.kind === 'text') text += m.text;
    else if (m.kind === 'thought') reasoning += m.text;
    if (m.signature !== undefined) details.push(signatureDetail(m.signature, m.kind === 'call' ? m.call.id : null, details.length));
  }
  const message: ResponseMessage = { role: 'assistant', content: text === '' && calls.length > 0 ? null : text };
  if (calls.length > 0) message.tool_calls = calls;
  if (reasoning !== '') message.reasoning = reasoning;
  if (details.length > 0) message.reasoning_details = details;
  return { message, sawToolCall: calls.length > 0, empty: text === '' && calls.length === 0 };
}

function bad(provider: string, detail: string): DomainError {
  return new DomainError(ErrorCode.UpstreamBadResponse, `Provider ${provider} returned an unusable response`, {
    retryable: true,
    meta: { provider, detail },
  });
}
