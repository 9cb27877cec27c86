import { splitsOf } from './stream-conformance';
import { serializeSse, SSE_DONE, sseComment, sseData, SseEventTooLarge, SseParser, sseNamedEvent, type SseEvent } from './sse';
import { SseTransformerBase } from './sse-transformer.base';

/** The shared SSE plumbing with no translation: what every provider stream inherits. */
class PlainStream extends SseTransformerBase {
  usage() {
    return undefined;
  }
  finished() {
    return false;
  }
  protected onEvent(): void {
    // no translation: only the parsing limits are under test
  }
  protected onEnd(): void {
    // nothing to check at the end
  }
}

function parseAll(pieces: readonly Uint8Array[]): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const b of pieces) out.push(...p.push(b));
  out.push(...p.end());
  return out;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const parse = (s: string): SseEvent[] => parseAll([enc(s)]);

describe('SseParser', () => {
  it('reads data events terminated by a blank line', () => {
    expect(parse('data: {"a":1}\n\ndata: [DONE]\n\n')).toEqual([{ data: '{"a":1}' }, { data: '[DONE]' }]);
  });

  it.each([
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['\\r', '\r'],
  ])('accepts %s line endings', (_name, eol) => {
    const text = `event: ping${eol}data: x${eol}${eol}data: y${eol}${eol}`;
    expect(parse(text)).toEqual([{ event: 'ping', data: 'x' }, { data: 'y' }]);
  });

  it('accepts mixed line endings in one stream', () => {
    expect(parse('data: a\r\n\r\ndata: b\r\rdata: c\n\n')).toEqual([{ data: 'a' }, { data: 'b' }, { data: 'c' }]);
  });

  it('joins multi-line data with \\n', () => {
    expect(parse('data: line one\ndata: line two\ndata\n\n')).toEqual([{ data: 'line one\nline two\n' }]);
  });

  it('strips exactly one space after the colon', () => {
    expect(parse('data:no-space\n\ndata:  two\n\n')).toEqual([{ data: 'no-space' }, { data: ' two' }]);
  });

  it('ignores comments such as OpenRouter keep-alives', () => {
    expect(parse(': OPENROUTER PROCESSING\n\n:\n\ndata: {"x":1}\n\n')).toEqual([{ data: '{"x":1}' }]);
  });

  it('reads event, id and retry fields and ignores unknown ones', () => {
    expect(parse('event: message_start\nid: 7\nretry: 1500\nfoo: bar\ndata: {}\n\n')).toEqual([
      { event: 'message_start', data: '{}', id: '7', retry: 1500 },
    ]);
  });

  it('keeps the last event id across events and ignores a non-numeric retry', () => {
    expect(parse('id: 1\ndata: a\n\nretry: soon\ndata: b\n\n')).toEqual([
      { id: '1', data: 'a' },
      { id: '1', data: 'b' },
    ]);
  });

  it('does not dispatch an event with no data line', () => {
    expect(parse('event: ping\n\ndata: x\n\n')).toEqual([{ data: 'x' }]);
  });

  it('reassembles a multi-byte UTF-8 character split across chunks', () => {
    const bytes = enc('data: {"t":"h€llo 😀"}\n\n');
    const euro = bytes.indexOf(0xe2);
    expect(parseAll([bytes.subarray(0, euro + 1), bytes.subarray(euro + 1, euro + 2), bytes.subarray(euro + 2)])).toEqual([
      { data: '{"t":"h€llo 😀"}' },
    ]);
  });

  it('treats \\r at the end of one chunk and \\n at the start of the next as one line break', () => {
    const out = parseAll([enc('data: a\r'), enc('\n\r'), enc('\ndata: b\r\n\r\n')]);
    expect(out).toEqual([{ data: 'a' }, { data: 'b' }]);
  });

  it('delivers a last event whose lines ended but whose blank line never came', () => {
    expect(parse('data: x\n\ndata: [DONE]\n')).toEqual([{ data: 'x' }, { data: '[DONE]' }]);
  });

  it('drops an unterminated last line (half an event)', () => {
    expect(parse('data: x\n\ndata: {"half":')).toEqual([{ data: 'x' }]);
  });

  it('skips a leading byte order mark', () => {
    expect(parse('\uFEFFdata: x\n\n')).toEqual([{ data: 'x' }]);
  });

  it('gives the same events however the bytes are split', () => {
    const stream =
      ': OPENROUTER PROCESSING\r\n\r\n' +
      'event: message_start\r\ndata: {"type":"message_start","t":"héllo €"}\r\n\r\n' +
      'data: first\rdata: second\r\r' +
      'id: 42\nretry: 10\ndata: {"emoji":"😀🎉"}\n\n' +
      'event: ping\ndata: {"type": "ping"}\n\n' +
      'data: [DONE]\n\n';
    const reference = parseAll([enc(stream)]);
    expect(reference).toHaveLength(5);
    for (const { name, pieces } of splitsOf(stream, 200)) {
      expect({ name, events: parseAll(pieces) }).toEqual({ name, events: reference });
    }
  });

  it('handles a large event arriving in many small pieces', () => {
    const big = 'x'.repeat(200_000);
    const bytes = enc(`data: ${big}\n\n`);
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 1000) pieces.push(bytes.subarray(i, i + 1000));
    expect(parseAll(pieces)).toEqual([{ data: big }]);
  });
});

describe('SseParser limits', () => {
  it('refuses to buffer an unterminated line or a many-line event past its limit', () => {
    const line = new SseParser(100);
    expect(line.pushText(`data: ${'x'.repeat(90)}`)).toEqual([]);
    expect(() => line.pushText('x'.repeat(20))).toThrow(SseEventTooLarge);
    const lines = new SseParser(100);
    expect(() => lines.pushText(`${'data: 0123456789\n'.repeat(12)}`)).toThrow(SseEventTooLarge);
    // At the limit is fine.
    expect(new SseParser(100).pushText(`data: ${'x'.repeat(100)}\n\n`)).toEqual([{ data: 'x'.repeat(100) }]);
  });

  it('fails a provider stream that sends an endless line as a malformed stream, retryable before any output', () => {
    const t = new PlainStream('openai');
    const chunk = new TextEncoder().encode('data: {"x":"' + 'a'.repeat(1024 * 1024));
    let thrown: unknown;
    try {
      for (let i = 0; i < 10; i++) t.push(chunk);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'stream_incomplete', details: { retryable: true, meta: { detail: expect.stringContaining('longer than') } } });
    expect(() => t.push(chunk)).toThrow();
  });
});

describe('SSE serializer', () => {
  it('writes OpenAI and Anthropic framings', () => {
    expect(sseData({ a: 1 })).toBe('data: {"a":1}\n\n');
    expect(sseNamedEvent('message_stop', { type: 'message_stop' })).toBe('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    expect(SSE_DONE).toBe('data: [DONE]\n\n');
    expect(sseComment('keep\nalive')).toBe(': keep alive\n\n');
  });

  it('splits multi-line data and round-trips through the parser', () => {
    const ev: SseEvent = { event: 'x', id: '3', retry: 5, data: 'a\nb\r\nc' };
    const text = serializeSse(ev);
    expect(text).toBe('event: x\nid: 3\nretry: 5\ndata: a\ndata: b\ndata: c\n\n');
    expect(parse(text)).toEqual([{ event: 'x', id: '3', retry: 5, data: 'a\nb\nc' }]);
  });
});
