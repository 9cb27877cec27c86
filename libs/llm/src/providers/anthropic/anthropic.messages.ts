import { DomainError, ErrorCode } from '@gw/core';
import type { AssistantMessage, CacheControl, ChatMessage, ReasoningDetail, TextPart, UserContentPart } from '../../openai.types';
import { parseDataUrl } from '../../data-url';
import { unsupportedParameter } from '../../unsupported-params';
import { parseToolArguments } from '../../tool-arguments';
import {
  ANTHROPIC_REASONING_FORMAT,
  type AnthropicAssistantBlock,
  type AnthropicMessage,
  type AnthropicTextBlock,
  type AnthropicToolResultBlock,
  type AnthropicUserBlock,
} from './anthropic.types';

/**
 * OpenAI messages -> Anthropic `system` + alternating `messages` (wire-formats.md §2.3, §4.1, §4.2).
 * Rules enforced here: system/developer hoisted; consecutive same-role turns merged; every tool
 * result of a turn in one user message, before any text; no empty text blocks; the first turn is
 * a user turn; thinking signatures replayed from `reasoning_details`.
 */
export interface ConvertedMessages {
  system: AnthropicTextBlock[];
  messages: AnthropicMessage[];
}

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

export function convertMessages(provider: string, input: ChatMessage[]): ConvertedMessages {
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessage[] = [];
  const pushUser = (blocks: AnthropicUserBlock[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last !== undefined && last.role === 'user') last.content.push(...blocks);
    else messages.push({ role: 'user', content: blocks });
  };
  const pushAssistant = (blocks: AnthropicAssistantBlock[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last !== undefined && last.role === 'assistant') last.content.push(...blocks);
    else messages.push({ role: 'assistant', content: blocks });
  };

  for (let i = 0; i < input.length; i++) {
    const m = input[i];
    switch (m.role) {
      case 'system':
      case 'developer':
        // Mid-conversation system turns exist only on the newest models; hoisting works on all.
        system.push(...textBlocks(m.content));
        break;
      case 'user':
        pushUser(userBlocks(provider, m.content, i));
        break;
      case 'tool':
        pushUser([toolResult(m.tool_call_id, m.content, m.is_error === true)]);
        break;
      case 'assistant':
        pushAssistant(assistantBlocks(m, i));
        break;
      case 'function':
        throw unsupportedParameter(provider, `messages[${i}].role`, "the deprecated 'function' role; use tool messages");
    }
  }

  for (const m of messages) if (m.role === 'user') toolResultsFirst(m.content);
  if (messages.length === 0) {
    throw new DomainError(ErrorCode.InvalidBody, 'messages must contain at least one user or assistant message', { param: 'messages', retryable: false });
  }
  // A conversation must open with a user turn; a minimal one keeps an assistant-first history valid.
  if (messages[0].role === 'assistant') messages.unshift({ role: 'user', content: [{ type: 'text', text: '.' }] });
  return { system, messages };
}

/**
 * Anthropic refuses `cache_control` inside `tool_result.content` ("place it directly on
 * tool_result", caozhiyuan/copilot-api#241): a hint on the tool message's text moves to the block.
 */
function toolResult(toolCallId: string, content: string | TextPart[], failed: boolean): AnthropicToolResultBlock {
  const blocks = textBlocks(content);
  let cache: CacheControl | undefined;
  const inner = blocks.map((b) => {
    if (b.cache_control === undefined) return b;
    cache = b.cache_control;
    return { type: 'text' as const, text: b.text };
  });
  const block: AnthropicToolResultBlock = { type: 'tool_result', tool_use_id: sanitizeToolId(toolCallId) };
  if (inner.length > 0) block.content = inner.length === 1 ? inner[0].text : inner;
  if (cache !== undefined) block.cache_control = cache;
  if (failed) block.is_error = true;
  return block;
}

/** Anthropic ids must match ^[a-zA-Z0-9_-]+$; ids from other providers may not. */
export function sanitizeToolId(id: string): string {
  if (/^[a-zA-Z0-9_-]+$/.test(id)) return id;
  const cleaned = id.replace(/[^a-zA-Z0-9_-]/g, '_');
  return cleaned === '' ? 'tool' : cleaned;
}

/** Anthropic answers 400 to empty or whitespace-only text blocks. */
function nonBlank(text: string): boolean {
  return text.trim().length > 0;
}

function textBlocks(content: string | TextPart[] | null | undefined): AnthropicTextBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return nonBlank(content) ? [{ type: 'text', text: content }] : [];
  const out: AnthropicTextBlock[] = [];
  for (const p of content) {
    if (p.type !== 'text' || !nonBlank(p.text)) continue;
    out.push(p.cache_control ? { type: 'text', text: p.text, cache_control: p.cache_control } : { type: 'text', text: p.text });
  }
  return out;
}

function userBlocks(provider: string, content: string | UserContentPart[], i: number): AnthropicUserBlock[] {
  if (typeof content === 'string') return nonBlank(content) ? [{ type: 'text', text: content }] : [];
  const out: AnthropicUserBlock[] = [];
  for (let j = 0; j < content.length; j++) {
    const part = content[j];
    const where = `messages[${i}].content[${j}]`;
    switch (part.type) {
      case 'text':
        if (nonBlank(part.text)) out.push(part.cache_control ? { type: 'text', text: part.text, cache_control: part.cache_control } : { type: 'text', text: part.text });
        break;
      case 'image_url':
        out.push(imageBlock(provider, part.image_url.url, where));
        break;
      case 'file':
        out.push(documentBlock(provider, part.file.file_data, where));
        break;
      case 'input_audio':
        throw unsupportedParameter(provider, where, 'audio input');
    }
  }
  return out;
}

function imageBlock(provider: string, url: string, where: string): AnthropicUserBlock {
  if (url.startsWith('https://') || url.startsWith('http://')) return { type: 'image', source: { type: 'url', url } };
  const parsed = parseDataUrl(url);
  if (parsed === undefined) throw invalid(`${where}.image_url.url`, 'an image must be an http(s) URL or a base64 data: URL');
  if (!IMAGE_TYPES.has(parsed.mediaType)) throw unsupportedParameter(provider, `${where}.image_url.url`, `image type ${parsed.mediaType}`);
  return { type: 'image', source: { type: 'base64', media_type: parsed.mediaType, data: parsed.data } };
}

function documentBlock(provider: string, fileData: string | undefined, where: string): AnthropicUserBlock {
  const parsed = fileData === undefined ? undefined : parseDataUrl(fileData);
  if (parsed === undefined) throw unsupportedParameter(provider, `${where}.file`, 'only inline base64 file_data is supported');
  if (parsed.mediaType === 'application/pdf') return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: parsed.data } };
  if (parsed.mediaType === 'text/plain') {
    return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(parsed.data, 'base64').toString('utf8') } };
  }
  throw unsupportedParameter(provider, `${where}.file`, `file type ${parsed.mediaType}`);
}

function assistantBlocks(m: AssistantMessage, i: number): AnthropicAssistantBlock[] {
  // Thinking must come first and byte-identical, or tool loops fail (wire-formats.md §2.6).
  const out: AnthropicAssistantBlock[] = m.reasoning_details ? thinkingBlocks(m.reasoning_details) : [];
  const content = m.content;
  if (typeof content === 'string') {
    if (nonBlank(content)) out.push({ type: 'text', text: content });
  } else if (Array.isArray(content)) {
    for (const p of content) {
      if (p.type !== 'text' || !nonBlank(p.text)) continue;
      out.push(p.cache_control ? { type: 'text', text: p.text, cache_control: p.cache_control } : { type: 'text', text: p.text });
    }
  }
  const calls = m.tool_calls ?? [];
  for (let j = 0; j < calls.length; j++) {
    const c = calls[j];
    out.push({ type: 'tool_use', id: sanitizeToolId(c.id), name: c.function.name, input: parseToolArguments(c.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`) });
  }
  return out;
}

/**
 * `reasoning_details` -> thinking / redacted_thinking. Stream fragments of one item share an
 * `index` (text pieces, then the signature with text ""), so they are merged first. Unsigned
 * thinking and other providers' formats are dropped: Anthropic rejects unsigned thinking.
 */
function thinkingBlocks(details: ReasoningDetail[]): AnthropicAssistantBlock[] {
  const merged: Array<{ text: string; signature: string; data?: string }> = [];
  const byIndex = new Map<number, { text: string; signature: string }>();
  for (const d of details) {
    if (d.format !== undefined && d.format !== ANTHROPIC_REASONING_FORMAT) continue;
    if (d.type === 'reasoning.encrypted') {
      merged.push({ text: '', signature: '', data: d.data });
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
  const out: AnthropicAssistantBlock[] = [];
  for (const m of merged) {
    if (m.data !== undefined) out.push({ type: 'redacted_thinking', data: m.data });
    else if (m.signature !== '') out.push({ type: 'thinking', thinking: m.text, signature: m.signature });
  }
  return out;
}

/** Tool results must lead the user turn that answers a tool call. Stable partition, in place. */
function toolResultsFirst(blocks: AnthropicUserBlock[]): void {
  let sawOther = false;
  let needed = false;
  for (const b of blocks) {
    if (b.type !== 'tool_result') sawOther = true;
    else if (sawOther) {
      needed = true;
      break;
    }
  }
  if (!needed) return;
  const results = blocks.filter((b) => b.type === 'tool_result');
  const rest = blocks.filter((b) => b.type !== 'tool_result');
  blocks.length = 0;
  blocks.push(...results, ...rest);
}

function invalid(param: string, message: string): DomainError {
  return new DomainError(ErrorCode.InvalidBody, message, { param, retryable: false });
}
