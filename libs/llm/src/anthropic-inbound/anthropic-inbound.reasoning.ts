import type { ReasoningDetail } from '../openai.types';
import { ANTHROPIC_REASONING_FORMAT } from '../providers/anthropic';
import { isRecord } from '../upstream-errors';
import type { AnthropicOutputBlock } from './anthropic-inbound.types';

/**
 * Opaque reasoning across an Anthropic client. Anthropic clients (Claude Code included) replay
 * `thinking` and `redacted_thinking` blocks verbatim and nothing else, so:
 * - Anthropic thinking becomes `thinking` only with its real signature (a fabricated one is a 400
 *   on replay) and redacted thinking becomes `redacted_thinking` with its real data;
 * - other providers' opaque items (Gemini thoughtSignatures, which Gemini 3 requires back in tool
 *   loops) ride in a `redacted_thinking` block whose data is a gateway envelope. The inbound
 *   converter unwraps it into the original `reasoning_details` item; the Anthropic adapter drops
 *   non-Anthropic formats, so an envelope never reaches Anthropic;
 * - the plain reasoning text of providers that want it back in tool loops (DeepSeek, Moonshot:
 *   `ProviderAdapter.reasoningInToolLoop`) rides in the same envelope as a `reasoning.text` item
 *   of CARRIED_TEXT_FORMAT, and comes back as the assistant message's `reasoning`, which those
 *   adapters send as the vendor's field and every other adapter leaves out.
 */
const ENVELOPE_PREFIX = 'gwrd1.';

/** The format of reasoning text carried in an envelope: it exists only between the gateway and its client. */
export const CARRIED_TEXT_FORMAT = 'gateway-reasoning-text-v1';

export function wrapForeignReasoning(detail: ReasoningDetail): string {
  return ENVELOPE_PREFIX + Buffer.from(JSON.stringify(detail), 'utf8').toString('base64url');
}

/** A provider's unsigned reasoning text as `redacted_thinking` data. */
export function wrapReasoningText(text: string): string {
  return wrapForeignReasoning({ type: 'reasoning.text', text, format: CARRIED_TEXT_FORMAT });
}

export function unwrapForeignReasoning(data: string): ReasoningDetail | undefined {
  if (!data.startsWith(ENVELOPE_PREFIX)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data.slice(ENVELOPE_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(v)) return undefined;
  if (v.type === 'reasoning.text' && v.format === CARRIED_TEXT_FORMAT && typeof v.text === 'string') return { type: 'reasoning.text', text: v.text, format: CARRIED_TEXT_FORMAT };
  if (v.type !== 'reasoning.encrypted' || typeof v.data !== 'string') return undefined;
  const d: ReasoningDetail = { type: 'reasoning.encrypted', data: v.data };
  if (typeof v.format === 'string') d.format = v.format;
  if (typeof v.index === 'number') d.index = v.index;
  if (typeof v.id === 'string' || v.id === null) d.id = v.id;
  return d;
}

export function isAnthropicDetail(d: ReasoningDetail): boolean {
  return d.format === undefined || d.format === ANTHROPIC_REASONING_FORMAT;
}

/** A foreign item worth carrying: opaque data some provider needs back. Summaries and text are display only. */
export function isCarriedForeignDetail(d: ReasoningDetail): boolean {
  return !isAnthropicDetail(d) && d.type === 'reasoning.encrypted' && d.data !== '';
}

/**
 * `reasoning_details` -> leading assistant blocks, in order. Stream fragments of one Anthropic
 * thinking item share an `index` (text pieces, then the signature with text ""), so they merge
 * first; unsigned thinking is dropped.
 */
export function reasoningBlocks(details: readonly ReasoningDetail[] | undefined): AnthropicOutputBlock[] {
  const merged: Array<{ block?: AnthropicOutputBlock; text: string; signature: string }> = [];
  const byIndex = new Map<number, { text: string; signature: string }>();
  for (const d of details ?? []) {
    if (isCarriedForeignDetail(d)) {
      merged.push({ block: { type: 'redacted_thinking', data: wrapForeignReasoning(d) }, text: '', signature: '' });
    } else if (!isAnthropicDetail(d)) {
      continue;
    } else if (d.type === 'reasoning.encrypted') {
      merged.push({ block: { type: 'redacted_thinking', data: d.data }, text: '', signature: '' });
    } else if (d.type === 'reasoning.text') {
      const existing = d.index !== undefined ? byIndex.get(d.index) : undefined;
      if (existing) {
        existing.text += d.text ?? '';
        if (d.signature) existing.signature = d.signature;
        continue;
      }
      const item = { text: d.text ?? '', signature: d.signature ?? '' };
      if (d.index !== undefined) byIndex.set(d.index, item);
      merged.push(item);
    }
  }
  const out: AnthropicOutputBlock[] = [];
  for (const m of merged) {
    if (m.block !== undefined) out.push(m.block);
    else if (m.signature !== '') out.push({ type: 'thinking', thinking: m.text, signature: m.signature });
  }
  return out;
}
