import { readFileSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';

/**
 * Pieces longer than this are counted in windows of this many bytes. Byte-pair merging is
 * quadratic in the piece's length, and one regex piece can be a whole base64 blob: a window
 * bounds the cost and is off by at most a token per window.
 */
const WINDOW = 512;
/** Texts up to this many characters (well under a millisecond) are counted in one go. */
const YIELD_ABOVE_CHARS = 16_384;

const NEWLINE = 0x0a;
const SPACE = 0x20;
/** Base64 digit values by character code, -1 elsewhere. */
const BASE64 = new Int8Array(256).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64[c.charCodeAt(0)] = i;

/**
 * Counts o200k_base tokens exactly as tiktoken does (regex split, then lowest-rank-first byte
 * pair merging), over a vocabulary stored as one byte pool and an open-addressing index.
 *
 * gpt-tokenizer does the same counting over a Map of 200k strings: loading it costs the
 * gateway 50–68 MB of resident memory, which the 200 MB budget cannot carry. This layout holds
 * the same vocabulary in about 7 MB. gpt-tokenizer still supplies the vocabulary file and the
 * split pattern, and the spec checks the counts against it.
 */
export class TokenCounter {
  private utf8 = new Uint8Array(4096);
  private readonly encoder = new TextEncoder();
  private starts = new Int32Array(WINDOW + 2);
  private ranks = new Int32Array(WINDOW + 2);

  private constructor(
    private readonly pool: Buffer,
    /** Token i's bytes are pool[offsets[i] .. offsets[i + 1]). */
    private readonly offsets: Uint32Array,
    private readonly tokenRanks: Int32Array,
    /** Open addressing: slot holds token index + 1, 0 when empty. */
    private readonly slots: Int32Array,
  ) {}

  /**
   * Reads a `.tiktoken` vocabulary (one `base64 rank` line per token) straight from its bytes:
   * no string per line, so loading neither blocks the event loop for long nor grows the heap.
   * Buffer's own base64 decoding, one string per line, measured +30 MB RSS and 300 ms against
   * +17 MB and 95 ms for this loop (`bench/experiments/tokenizer-memory.cjs`).
   */
  static fromTiktokenFile(path: string): TokenCounter {
    const file = readFileSync(path);
    let lines = 0;
    for (let i = 0; i < file.length; i++) if (file[i] === NEWLINE) lines++;
    if (file.length > 0 && file[file.length - 1] !== NEWLINE) lines++;
    const pool = Buffer.allocUnsafe(Math.ceil((file.length * 3) / 4));
    const offsets = new Uint32Array(lines + 1);
    const tokenRanks = new Int32Array(lines);
    let end = 0;
    let token = 0;
    let at = 0;
    while (at < file.length && token < lines) {
      offsets[token] = end;
      let bits = 0;
      let acc = 0;
      for (; at < file.length && file[at] !== SPACE; at++) {
        const v = BASE64[file[at]];
        if (v < 0) continue; // '=' padding
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          pool[end++] = (acc >> bits) & 0xff;
        }
      }
      let rank = 0;
      for (at++; at < file.length && file[at] !== NEWLINE; at++) rank = rank * 10 + file[at] - 0x30;
      tokenRanks[token++] = rank;
      at++;
    }
    offsets[lines] = end;
    let size = 1;
    while (size < lines * 2) size <<= 1;
    const counter = new TokenCounter(Buffer.from(pool.subarray(0, end)), offsets, tokenRanks, new Int32Array(size));
    for (let i = 0; i < lines; i++) counter.insert(i);
    return counter;
  }

  /** The o200k_base vocabulary shipped with gpt-tokenizer. */
  static o200k(): TokenCounter {
    return TokenCounter.fromTiktokenFile(require.resolve('gpt-tokenizer/data/o200k_base.tiktoken'));
  }

  /** Special-token text such as `<|endoftext|>` counts as ordinary text. */
  count(text: string): number {
    let n = 0;
    for (const [piece] of text.matchAll(O200K_TOKEN_SPLIT_REGEX)) n += this.countPieceText(piece);
    return n;
  }

  /**
   * The same count, giving the event loop back every `sliceMs`: a megabyte of text takes
   * 150-250 ms, which would stall every other request of the process (a client that sends a
   * huge prompt and hangs up gets its prompt counted). Exact: the pre-tokenizer resumes where it
   * stopped, a long piece (an unbroken word, CJK without punctuation) is counted window by window
   * from a buffer of its own, and the scratch buffers are only used between two yields.
   * With `stopAbove`, counting ends as soon as the count passes it (the answer is then some
   * number above it): deciding whether a prompt fits a context costs at most the context's worth.
   */
  async countYielding(text: string, sliceMs = 4, stopAbove = Infinity): Promise<number> {
    if (text.length <= YIELD_ABOVE_CHARS) return this.count(text);
    const split = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, O200K_TOKEN_SPLIT_REGEX.flags);
    const clock = { until: performance.now() + sliceMs, sliceMs };
    let n = 0;
    for (let m = split.exec(text), i = 1; m !== null; m = split.exec(text), i++) {
      const piece = m[0];
      if (piece === '') {
        split.lastIndex++;
        continue;
      }
      if (piece.length > YIELD_ABOVE_CHARS) {
        n += await this.countLongPiece(piece, clock);
        if (n > stopAbove) return n;
        continue;
      }
      n += this.countPieceText(piece);
      if ((i & 255) === 0) {
        if (n > stopAbove) return n;
        await yieldIfDue(clock);
      }
    }
    return n;
  }

  /** countPieceText for a long piece, yielding between its windows (counted the same way). */
  private async countLongPiece(piece: string, clock: { until: number; sliceMs: number }): Promise<number> {
    const bytes = Buffer.from(piece, 'utf8');
    let n = 0;
    for (let from = 0; from < bytes.length; from += WINDOW) {
      const to = Math.min(bytes.length, from + WINDOW);
      this.utf8.set(bytes.subarray(from, to), 0);
      n += this.countPiece(0, to - from);
      await yieldIfDue(clock);
    }
    return n;
  }

  private countPieceText(piece: string): number {
    const bytes = this.encode(piece);
    let n = 0;
    for (let from = 0; from < bytes; from += WINDOW) n += this.countPiece(from, Math.min(bytes, from + WINDOW));
    return n;
  }

  private encode(piece: string): number {
    if (this.utf8.length < piece.length * 3) this.utf8 = new Uint8Array(piece.length * 3);
    return this.encoder.encodeInto(piece, this.utf8).written;
  }

  /** tiktoken's byte_pair_merge over utf8[from, to), returning how many tokens remain. */
  private countPiece(from: number, to: number): number {
    const len = to - from;
    if (len === 1 || this.rank(from, to) >= 0) return 1;
    const starts = this.starts;
    const ranks = this.ranks;
    for (let i = 0; i <= len; i++) {
      starts[i] = from + i;
      ranks[i] = i + 2 <= len ? this.rank(from + i, from + i + 2) : -1;
    }
    let parts = len + 1;
    for (;;) {
      let min = -1;
      let at = -1;
      for (let i = 0; i < parts - 1; i++) {
        const r = ranks[i];
        if (r >= 0 && (min < 0 || r < min)) {
          min = r;
          at = i;
        }
      }
      if (at < 0) return parts - 1;
      if (at > 0) ranks[at - 1] = at + 2 < parts ? this.rank(starts[at - 1], starts[at + 2]) : -1;
      ranks[at] = at + 3 < parts ? this.rank(starts[at], starts[at + 3]) : -1;
      starts.copyWithin(at + 1, at + 2, parts);
      ranks.copyWithin(at + 1, at + 2, parts);
      parts--;
    }
  }

  /** The rank of utf8[from, to) as one token, or -1. */
  private rank(from: number, to: number): number {
    const mask = this.slots.length - 1;
    for (let s = hash(this.utf8, from, to) & mask; ; s = (s + 1) & mask) {
      const entry = this.slots[s];
      if (entry === 0) return -1;
      if (this.equals(entry - 1, this.utf8, from, to)) return this.tokenRanks[entry - 1];
    }
  }

  private insert(token: number): void {
    const mask = this.slots.length - 1;
    let s = hash(this.pool, this.offsets[token], this.offsets[token + 1]) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = token + 1;
  }

  private equals(token: number, bytes: Uint8Array, from: number, to: number): boolean {
    const start = this.offsets[token];
    if (this.offsets[token + 1] - start !== to - from) return false;
    for (let i = 0; i < to - from; i++) if (this.pool[start + i] !== bytes[from + i]) return false;
    return true;
  }
}

/** Gives the event loop a turn once the slice's time is up. */
async function yieldIfDue(clock: { until: number; sliceMs: number }): Promise<void> {
  if (performance.now() <= clock.until) return;
  await nextTurn();
  clock.until = performance.now() + clock.sliceMs;
}

/** FNV-1a over bytes[from, to). */
function hash(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
