import { DomainError, ErrorCode } from '@gw/core';
import { parseDataUrl } from '../../data-url';
import type { AssistantMessage, ChatMessage, JsonValue, TextPart, UserContentPart } from '../../openai.types';
import { unsupportedParameter } from '../../unsupported-params';
import { parseToolArguments } from '../../tool-arguments';
import { isSyntheticCallId, toGeminiName } from './gemini.tools';
import { GEMINI_REASONING_FORMAT, type GeminiContent, type GeminiPart } from './gemini.types';

/**
 * OpenAI messages -> Gemini `systemInstruction` + `contents` (wire-formats.md §3.2, §4.1, §4.2).
 * Rules enforced here: system/developer hoisted; roles user/model; consecutive same-role contents
 * merged (so all functionResponses of a turn share one user content, placed first); never an
 * empty part; thought signatures replayed on the part they came with; one response per call.
 */
export interface ConvertedContents {
  systemInstruction?: { parts: GeminiPart[] };
  contents: GeminiContent[];
}

export function convertMessages(provider: string, input: ChatMessage[]): ConvertedContents {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  /** OpenAI tool call id -> Gemini function name, to name each functionResponse. */
  const callNames = new Map<string, string>();
  const push = (role: 'user' | 'model', parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last !== undefined && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  for (let i = 0; i < input.length; i++) {
    const m = input[i];
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(m.content));
        break;
      case 'user':
        push('user', userParts(provider, m.content, i));
        break;
      case 'assistant':
        push('model', modelParts(m, i, callNames));
        break;
      case 'tool': {
        const name = callNames.get(m.tool_call_id);
        if (name === undefined) throw invalid(`messages[${i}].tool_call_id`, `tool message answers unknown tool call '${m.tool_call_id}'`);
        // "Use the `output` key for the output and the `error` key for error details" (SDK doc, wire-formats.md §3.2).
        const result = parseOutput(joinText(m.content));
        const part: GeminiPart = { functionResponse: { name, response: m.is_error === true ? { error: result } : { output: result } } };
        if (!isSyntheticCallId(m.tool_call_id) && part.functionResponse) part.functionResponse.id = m.tool_call_id;
        push('user', [part]);
        break;
      }
      case 'function':
        throw unsupportedParameter(provider, `messages[${i}].role`, "the deprecated 'function' role; use tool messages");
    }
  }
  if (contents.length === 0) {
    throw new DomainError(ErrorCode.InvalidBody, 'messages must contain at least one user or assistant message', { param: 'messages', retryable: false });
  }
  for (const c of contents) if (c.role === 'user') responsesFirst(c.parts);
  checkResponseCounts(contents);
  return system.length > 0 ? { systemInstruction: { parts: system }, contents } : { contents };
}

function nonBlank(text: string): boolean {
  return text.trim().length > 0;
}

function textParts(content: string | TextPart[] | null | undefined): GeminiPart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return nonBlank(content) ? [{ text: content }] : [];
  return content.filter((p) => p.type === 'text' && nonBlank(p.text)).map((p) => ({ text: p.text }));
}

function joinText(content: string | TextPart[]): string {
  return typeof content === 'string' ? content : content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/** A JSON tool output is passed as JSON; anything else as the string it is. */
function parseOutput(text: string): JsonValue {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(t) as JsonValue;
    } catch {
      return text;
    }
  }
  return text;
}

function userParts(provider: string, content: string | UserContentPart[], i: number): GeminiPart[] {
  if (typeof content === 'string') return nonBlank(content) ? [{ text: content }] : [];
  const out: GeminiPart[] = [];
  content.forEach((part, j) => {
    const where = `messages[${i}].content[${j}]`;
    switch (part.type) {
      case 'text':
        if (nonBlank(part.text)) out.push({ text: part.text });
        break;
      case 'image_url':
        out.push(mediaPart(part.image_url.url, `${where}.image_url.url`, 'image'));
        break;
      case 'input_audio':
        out.push({ inlineData: { mimeType: part.input_audio.format === 'mp3' ? 'audio/mp3' : 'audio/wav', data: part.input_audio.data } });
        break;
      case 'file': {
        const parsed = part.file.file_data === undefined ? undefined : parseDataUrl(part.file.file_data);
        if (parsed === undefined) throw unsupportedParameter(provider, `${where}.file`, 'only inline base64 file_data is supported');
        out.push({ inlineData: { mimeType: parsed.mediaType, data: parsed.data } });
        break;
      }
    }
  });
  return out;
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/**
 * Data URLs are inlined (base64 without the prefix). Other URLs become `fileData`: Files API and
 * `gs://` URIs are documented, arbitrary https URLs are unverified (wire-formats.md §3.2) and the
 * adapter does no I/O to download them; the upstream's 400 then names the problem.
 */
function mediaPart(url: string, param: string, kind: string): GeminiPart {
  const parsed = parseDataUrl(url);
  if (parsed !== undefined) return { inlineData: { mimeType: parsed.mediaType, data: parsed.data } };
  if (!/^(https?|gs):\/\//i.test(url)) throw invalid(param, `an ${kind} must be an http(s) or gs:// URL or a base64 data: URL`);
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  const mimeType = ext === undefined ? undefined : MIME_BY_EXTENSION[ext];
  return { fileData: mimeType === undefined ? { fileUri: url } : { mimeType, fileUri: url } };
}

function modelParts(m: AssistantMessage, i: number, callNames: Map<string, string>): GeminiPart[] {
  const signatures = geminiSignatures(m);
  const out: GeminiPart[] = [];
  const text = typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? m.content.map((p) => (p.type === 'text' ? p.text : '')).join('') : '';
  if (nonBlank(text)) {
    const part: GeminiPart = { text };
    if (signatures.text !== undefined) part.thoughtSignature = signatures.text;
    out.push(part);
  }
  (m.tool_calls ?? []).forEach((c, j) => {
    const name = toGeminiName(c.function.name, `messages[${i}].tool_calls[${j}].function.name`);
    callNames.set(c.id, name);
    const part: GeminiPart = { functionCall: { name, args: parseToolArguments(c.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`) } };
    if (!isSyntheticCallId(c.id) && part.functionCall) part.functionCall.id = c.id;
    const sig = signatures.byCall.get(c.id);
    if (sig !== undefined) part.thoughtSignature = sig;
    out.push(part);
  });
  return out;
}

/**
 * Gemini signatures ride in `reasoning_details` as `reasoning.encrypted` items in the Gemini
 * format: `id` names the tool call whose part carried it, no id means the text part.
 */
function geminiSignatures(m: AssistantMessage): { text?: string; byCall: Map<string, string> } {
  const byCall = new Map<string, string>();
  let text: string | undefined;
  for (const d of m.reasoning_details ?? []) {
    if (d.type !== 'reasoning.encrypted' || d.format !== GEMINI_REASONING_FORMAT || d.data === '') continue;
    if (typeof d.id === 'string' && d.id !== '') byCall.set(d.id, d.data);
    else text = d.data;
  }
  return text === undefined ? { byCall } : { text, byCall };
}

/** functionResponse parts lead the user content that answers a call turn. Stable partition, in place. */
function responsesFirst(parts: GeminiPart[]): void {
  const responses = parts.filter((p) => p.functionResponse !== undefined);
  if (responses.length === 0 || responses.length === parts.length) return;
  const rest = parts.filter((p) => p.functionResponse === undefined);
  parts.length = 0;
  parts.push(...responses, ...rest);
}

/**
 * "The number of function response parts is equal to the number of function call parts"
 * (microsoft/vscode#299295): caught here with the message naming the client's mistake.
 */
function checkResponseCounts(contents: GeminiContent[]): void {
  for (let k = 0; k + 1 < contents.length; k++) {
    const calls = contents[k].parts.filter((p) => p.functionCall !== undefined).length;
    if (calls === 0) continue;
    const answers = contents[k + 1].parts.filter((p) => p.functionResponse !== undefined).length;
    if (answers !== calls) {
      throw invalid('messages', `an assistant turn made ${calls} tool call(s) but the next turn gives ${answers} tool result(s); Gemini needs one result per call`);
    }
  }
}

function invalid(param: string, message: string): DomainError {
  return new DomainError(ErrorCode.InvalidBody, message, { param, retryable: false });
}
