/**
 * Server-sent events, per https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * The parser is incremental: bytes may be split anywhere, including inside a line terminator
 * (`\r` | `\n`) or a multi-byte UTF-8 character, and only the newly arrived text is scanned.
 */

export interface SseEvent {
  /** The `event:` field; undefined for unnamed events (the spec's default type "message"). */
  event?: string;
  /** `data:` lines joined with `\n`. */
  data: string;
  id?: string;
  retry?: number;
}

const LF = 10;
const CR = 13;

/** No real event comes near this (a chunk is a few hundred bytes); a stream sending one is broken or hostile. */
export const MAX_SSE_EVENT_CHARS = 8 * 1024 * 1024;

/** An event (or a line still unterminated) longer than the parser's limit: it is not buffered further. */
export class SseEventTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`stream event longer than ${limit} characters`);
    this.name = 'SseEventTooLarge';
  }
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  /** Text of the current, not yet terminated line. */
  private partial = '';
  /** The previous text ended with `\r`; a `\n` starting the next text belongs to it. */
  private skipLeadingLf = false;
  private data: string | undefined;
  private event: string | undefined;
  private id: string | undefined;
  private retry: number | undefined;
  private out: SseEvent[] = [];

  constructor(private readonly maxEventChars = MAX_SSE_EVENT_CHARS) {}

  push(bytes: Uint8Array): SseEvent[] {
    return this.feedText(this.decoder.decode(bytes, { stream: true }));
  }

  /** Text input, for callers that already decoded (tests, fixtures). */
  pushText(text: string): SseEvent[] {
    return this.feedText(text);
  }

  /**
   * End of stream. An unterminated last line is dropped (the spec discards it); an event whose
   * lines were all terminated but lacks the closing blank line is still delivered, because some
   * upstreams close right after `data: [DONE]\n`.
   */
  end(): SseEvent[] {
    const tail = this.decoder.decode();
    this.out = [];
    if (tail) this.scan(tail);
    if (this.partial === '' && this.data !== undefined) this.dispatch();
    this.partial = '';
    this.resetEvent();
    const out = this.out;
    this.out = [];
    return out;
  }

  private feedText(text: string): SseEvent[] {
    this.out = [];
    if (text.length > 0) this.scan(text);
    const out = this.out;
    this.out = [];
    return out;
  }

  private scan(text: string): void {
    const n = text.length;
    let start = 0;
    if (this.skipLeadingLf) {
      this.skipLeadingLf = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    // indexOf runs natively; caching the next CR / LF keeps each scan linear in the new text.
    let nextLf = text.indexOf('\n', start);
    let nextCr = text.indexOf('\r', start);
    while (start < n) {
      if (nextLf !== -1 && nextLf < start) nextLf = text.indexOf('\n', start);
      if (nextCr !== -1 && nextCr < start) nextCr = text.indexOf('\r', start);
      let end: number;
      if (nextLf === -1 && nextCr === -1) break;
      else if (nextLf === -1) end = nextCr;
      else if (nextCr === -1) end = nextLf;
      else end = nextLf < nextCr ? nextLf : nextCr;

      const piece = text.slice(start, end);
      const line = this.partial === '' ? piece : this.partial + piece;
      this.partial = '';
      this.line(line);

      if (text.charCodeAt(end) === CR) {
        if (end + 1 < n) {
          start = text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
        } else {
          this.skipLeadingLf = true;
          start = n;
        }
      } else {
        start = end + 1;
      }
    }
    if (start < n) {
      this.partial = this.partial === '' ? text.slice(start) : this.partial + text.slice(start);
      if (this.partial.length > this.maxEventChars) throw new SseEventTooLarge(this.maxEventChars);
    }
  }

  private line(line: string): void {
    if (line.length === 0) {
      if (this.data !== undefined) this.dispatch();
      this.resetEvent();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // comment, e.g. `: OPENROUTER PROCESSING` keep-alives
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = '';
    if (colon !== -1) {
      const from = line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1;
      value = line.slice(from);
    }
    switch (field) {
      case 'data':
        this.data = this.data === undefined ? value : this.data + '\n' + value;
        if (this.data.length > this.maxEventChars) throw new SseEventTooLarge(this.maxEventChars);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    const ev: SseEvent = { data: this.data ?? '' };
    if (this.event !== undefined && this.event !== '') ev.event = this.event;
    if (this.id !== undefined) ev.id = this.id;
    if (this.retry !== undefined) ev.retry = this.retry;
    this.out.push(ev);
  }

  private resetEvent(): void {
    this.data = undefined;
    this.event = undefined;
    this.retry = undefined;
    // `id` is the spec's "last event ID buffer": it persists across events.
  }
}

// ---------------------------------------------------------------------------------------------
// Serializer
// ---------------------------------------------------------------------------------------------

/** The OpenAI stream terminator. */
export const SSE_DONE = 'data: [DONE]\n\n';

/** `data: <json>\n\n`. JSON text never contains raw newlines, so one data line is enough. */
export function sseData(payload: object): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** `event: <name>\ndata: <json>\n\n`, the Anthropic framing. */
export function sseNamedEvent(event: string, payload: object): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** `: <text>\n\n`, a comment clients ignore (keep-alive). */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** General form: arbitrary text data is split into one `data:` line per line. */
export function serializeSse(ev: SseEvent): string {
  let s = '';
  if (ev.event !== undefined) s += `event: ${ev.event}\n`;
  if (ev.id !== undefined) s += `id: ${ev.id}\n`;
  if (ev.retry !== undefined) s += `retry: ${ev.retry}\n`;
  const data = ev.data;
  if (data.indexOf('\n') === -1 && data.indexOf('\r') === -1) return `${s}data: ${data}\n\n`;
  for (const line of data.split(/\r\n|\r|\n/)) s += `data: ${line}\n`;
  return `${s}\n`;
}
