import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { TokenUsage } from '@gw/core';
import type { ChatRequest } from '@gw/llm';
import { promptContentOf } from './chat-plan';
import { TokenCounter } from './token-counter';

/**
 * An image's prompt tokens in an estimate: a 1024×1024 image at OpenAI's high detail (765).
 * Providers differ (Gemini counts 258 per image, Anthropic up to about 1,600), and the image's
 * size is not known without decoding it; the hold's bound allows the most (1,600).
 */
export const ESTIMATED_IMAGE_TOKENS = 765;

/**
 * Token counts for a response whose upstream gave no usage (a cut stream, a client that went
 * away): the prompt's text and the text generated so far, counted with a local o200k tokenizer.
 * The record is marked estimated.
 *
 * The vocabulary (about 7 MB) is read at start-up: read lazily, the first client to hang up
 * would stall the event loop for the 20–100 ms the read takes, in the middle of traffic.
 */
@Injectable()
export class UsageEstimator implements OnModuleInit {
  private counter?: TokenCounter;

  onModuleInit(): void {
    this.counter = TokenCounter.o200k();
  }

  /**
   * Counted without stalling the event loop on long texts (see TokenCounter.countYielding). The
   * prompt is what the provider was sent: its text, tool definitions and earlier tool calls and
   * the messages' framing (`contextTokens`), and each image at ESTIMATED_IMAGE_TOKENS.
   */
  async estimate(req: ChatRequest, generated: string): Promise<TokenUsage> {
    const promptTokens = (await this.contextTokens(req)) + ESTIMATED_IMAGE_TOKENS * promptContentOf(req).images;
    return { promptTokens, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: await this.completion(generated), reasoningTokens: 0 };
  }

  /**
   * The prompt's tokens as far as the model's context is concerned: its text, the tool
   * definitions, the tool calls of earlier turns and each message's framing, counted locally
   * (o200k). Images are not counted, so this stays near or under what most providers count. Counting stops once the count passes
   * `stopAbove` (the answer is then some number above it).
   */
  async contextTokens(req: ChatRequest, stopAbove = Infinity): Promise<number> {
    let extra = req.tools === undefined ? '' : JSON.stringify(req.tools);
    for (const m of req.messages) {
      const calls = (m as { tool_calls?: unknown }).tool_calls;
      if (Array.isArray(calls)) extra += JSON.stringify(calls);
    }
    const framing = 4 * req.messages.length + 3;
    return (await this.count(promptText(req) + extra, stopAbove - framing)) + framing;
  }

  /** Tokens of the text generated so far. */
  completion(generated: string): Promise<number> {
    return generated ? this.count(generated) : Promise.resolve(0);
  }

  private count(text: string, stopAbove?: number): Promise<number> {
    this.counter ??= TokenCounter.o200k();
    return this.counter.countYielding(text, undefined, stopAbove);
  }
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
