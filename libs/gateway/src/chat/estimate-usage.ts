import type { TokenUsage } from '@gw/core';
import type { ChatRequest } from '@gw/llm';

type Counter = (text: string) => number;
let counter: Counter | undefined;

/** Loaded on first use only: the tokenizer is never on the normal hot path. */
function count(text: string): number {
  if (!counter) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    counter = (require('gpt-tokenizer') as { countTokens: Counter }).countTokens;
  }
  return counter(text);
}

/**
 * Token counts for a response whose upstream gave no usage (a cut stream, a client that went
 * away): the prompt's text and the text generated so far, counted with a local tokenizer. The
 * record is marked estimated.
 */
export function estimateUsage(req: ChatRequest, generated: string, knownPromptTokens?: number): TokenUsage {
  const promptTokens = knownPromptTokens ?? count(promptText(req)) + 4 * req.messages.length;
  return { promptTokens, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: generated ? count(generated) : 0, reasoningTokens: 0 };
}

function promptText(req: ChatRequest): string {
  let s = '';
  for (const m of req.messages) {
    const c = (m as { content?: unknown }).content;
    if (typeof c === 'string') s += c + '\n';
    else if (Array.isArray(c)) for (const p of c) if (p && typeof p === 'object' && 'text' in p) s += String((p as { text: unknown }).text) + '\n';
  }
  return s;
}
