import type { TokenUsage } from '@gw/core';
import type { ChatCompletionChunk } from './openai.types';
import type { StreamTransformer } from './provider';

/**
 * Conformance helpers for StreamTransformer implementations: drive one with a byte stream cut in
 * many ways and check the output never depends on the cuts (STYLE.md: stream parsers are tested
 * with the byte stream split at every offset). Pure functions, no test framework, so adapter specs
 * here and the fakes' specs in @gw/testing share them without a dependency cycle.
 */

export interface StreamRun {
  chunks: ChatCompletionChunk[];
  error?: { code: string; message: string; retryable: boolean | undefined };
  usage?: TokenUsage;
  finished: boolean;
}

export function runStream(t: StreamTransformer, pieces: readonly Uint8Array[]): StreamRun {
  const chunks: ChatCompletionChunk[] = [];
  let error: StreamRun['error'];
  try {
    for (const p of pieces) for (const c of t.push(p)) chunks.push(c);
    for (const c of t.end()) chunks.push(c);
  } catch (e) {
    error = describe(e);
  }
  const run: StreamRun = { chunks, finished: t.finished() };
  const usage = t.usage();
  if (usage !== undefined) run.usage = usage;
  if (error !== undefined) run.error = error;
  return run;
}

function describe(e: unknown): NonNullable<StreamRun['error']> {
  if (typeof e === 'object' && e !== null && 'code' in e && 'details' in e) {
    const d = e as { code: unknown; message: unknown; details: { retryable?: boolean } };
    return { code: String(d.code), message: String(d.message), retryable: d.details.retryable };
  }
  return { code: 'non_domain_error', message: e instanceof Error ? e.message : String(e), retryable: undefined };
}

export function toBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? new TextEncoder().encode(input) : input;
}

/** Deterministic PRNG so random splits are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The cuts: whole; two pieces at every offset; one byte per piece; `random` sets of random cuts.
 * Each entry names itself for failure messages.
 */
export function* splitsOf(input: string | Uint8Array, random = 50, seed = 42): Generator<{ name: string; pieces: Uint8Array[] }> {
  const bytes = toBytes(input);
  const n = bytes.length;
  yield { name: 'whole', pieces: [bytes] };
  for (let k = 1; k < n; k++) yield { name: `at ${k}`, pieces: [bytes.subarray(0, k), bytes.subarray(k)] };
  const single: Uint8Array[] = [];
  for (let k = 0; k < n; k++) single.push(bytes.subarray(k, k + 1));
  yield { name: 'byte by byte', pieces: single };
  const rnd = mulberry32(seed);
  for (let r = 0; r < random; r++) {
    const pieces: Uint8Array[] = [];
    let at = 0;
    while (at < n) {
      const len = 1 + Math.floor(rnd() * 24);
      pieces.push(bytes.subarray(at, Math.min(n, at + len)));
      at += len;
    }
    yield { name: `random #${r}`, pieces };
  }
}

export interface SplitCheck {
  reference: StreamRun;
  /** Names of the cuts whose run differed from the reference (empty when all agree). */
  mismatches: string[];
}

/** Runs a fresh transformer for every cut of `input` and compares each run with the unsplit one. */
export function checkEverySplit(factory: () => StreamTransformer, input: string | Uint8Array, random = 50): SplitCheck {
  const mismatches: string[] = [];
  let reference: StreamRun | undefined;
  let refJson = '';
  for (const { name, pieces } of splitsOf(input, random)) {
    const run = runStream(factory(), pieces);
    const json = JSON.stringify(run);
    if (reference === undefined) {
      reference = run;
      refJson = json;
    } else if (json !== refJson) {
      mismatches.push(name);
    }
  }
  if (reference === undefined) throw new Error('no input');
  return { reference, mismatches };
}

/** Concatenated `delta.content` of choice 0. */
export function contentOf(chunks: readonly ChatCompletionChunk[]): string {
  let s = '';
  for (const c of chunks) for (const ch of c.choices) if (ch.index === 0 && typeof ch.delta.content === 'string') s += ch.delta.content;
  return s;
}

/** Tool calls of choice 0 reassembled from deltas, by tool index. */
export function toolCallsOf(chunks: readonly ChatCompletionChunk[]): Array<{ id?: string; name?: string; arguments: string }> {
  const calls: Array<{ id?: string; name?: string; arguments: string }> = [];
  for (const c of chunks) {
    for (const ch of c.choices) {
      for (const tc of ch.delta.tool_calls ?? []) {
        const call = (calls[tc.index] ??= { arguments: '' });
        if (tc.id !== undefined) call.id = tc.id;
        if (tc.function?.name !== undefined) call.name = tc.function.name;
        if (tc.function?.arguments !== undefined) call.arguments += tc.function.arguments;
      }
    }
  }
  return calls;
}
