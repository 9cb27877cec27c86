import { countTokens, encode } from 'gpt-tokenizer/encoding/o200k_base';
import { TokenCounter } from './token-counter';

/** A small seeded generator, so a failing corpus can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const FIXED = [
  '',
  ' ',
  'a',
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog.\n\nIt did it again   and again\t\ttabs\r\n',
  "I'm sure they'll say we've done it; don't you THINK'S so?",
  'function add(a, b) {\n  return a + b; // sum\n}\nconst x = [1, 22, 333, 4444, 55555];\n',
  '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0.7}',
  '日本語のテキストを数えます。東京は大きな都市です。',
  '中文文本的标记数量应该与参考实现完全一致。',
  'Привет, как дела? Это тест токенизатора.',
  'مرحبا بالعالم، هذا اختبار.',
  'नमस्ते दुनिया, यह एक परीक्षण है।',
  'Emoji 👩‍👩‍👧‍👦 family, flags 🇫🇷🇯🇵, skin 👍🏽 and ☕️.',
  'Combining: e\u0301 a\u0308 n\u0303 — and ﬁ ligature, Ω, ß, İstanbul.',
  '1234567890 3.14159 -42 1e10 0xDEADBEEF 1,000,000',
  '    indented\n        more\n\n\n\nblank lines   \n',
  'lone surrogate \ud800 here and \udfff there',
  'https://example.com/path/to/resource?query=1&x=%20#frag',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
];

/** Random strings drawn from ASCII, Latin, Cyrillic, CJK, emoji and whitespace. */
function randomText(next: () => number, length: number): string {
  const ranges: Array<[number, number]> = [
    [0x20, 0x7e],
    [0x20, 0x7e],
    [0x20, 0x7e],
    [0xc0, 0x17f],
    [0x400, 0x4ff],
    [0x4e00, 0x4fff],
    [0x3040, 0x30ff],
    [0x1f300, 0x1f64f],
    [0x300, 0x36f],
    [0x09, 0x0d],
  ];
  let s = '';
  while (s.length < length) {
    const [lo, hi] = ranges[Math.floor(next() * ranges.length)];
    s += String.fromCodePoint(lo + Math.floor(next() * (hi - lo + 1)));
  }
  return s;
}

describe('TokenCounter (o200k_base)', () => {
  const counter = TokenCounter.o200k();

  it.each(FIXED.map((t) => [JSON.stringify(t).slice(0, 40), t]))('counts %s as gpt-tokenizer does', (_, text) => {
    expect(counter.count(text)).toBe(countTokens(text));
  });

  it('counts 300 random multilingual strings as gpt-tokenizer does', () => {
    const next = rng(7);
    const mismatches: string[] = [];
    for (let i = 0; i < 300; i++) {
      const text = randomText(next, 1 + Math.floor(next() * 200));
      if (counter.count(text) !== countTokens(text)) mismatches.push(text);
    }
    expect(mismatches).toEqual([]);
  });

  it('counts a long mixed document as gpt-tokenizer does', () => {
    const doc = FIXED.join('\n').repeat(50);
    expect(counter.count(doc)).toBe(countTokens(doc));
  });

  it('counts special-token text as ordinary text', () => {
    const text = 'before <|endoftext|> after <|im_start|>';
    expect(counter.count(text)).toBe(encode(text, { disallowedSpecial: new Set() }).length);
    expect(counter.count(text)).toBeGreaterThan(4);
  });

  it('counts a piece longer than a window within one token per window', () => {
    const next = rng(11);
    let blob = '';
    while (blob.length < 200_000) blob += 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'[Math.floor(next() * 52)];
    const small = blob.slice(0, 5_000);
    const windows = Math.ceil(5_000 / 512);
    expect(Math.abs(counter.count(small) - countTokens(small))).toBeLessThanOrEqual(windows);
    expect(counter.count(blob)).toBeGreaterThan(200_000 / 8);
  });

  it('counts a long text exactly while giving the event loop back between slices', async () => {
    const doc = FIXED.join('\n').repeat(200); // ~150 KB: tens of milliseconds in one go
    const order: string[] = [];
    const counted = counter.countYielding(doc, 1).then((n) => {
      order.push('counted');
      return n;
    });
    setImmediate(() => order.push('other work'));
    // Two counts interleaved share the counter's scratch buffers: both stay exact.
    const [a, b] = await Promise.all([counted, counter.countYielding(doc.slice(7), 1)]);
    expect(a).toBe(counter.count(doc));
    expect(b).toBe(counter.count(doc.slice(7)));
    expect(order[0]).toBe('other work');
    // Short texts are counted in one go.
    expect(await counter.countYielding('Hello, world!')).toBe(countTokens('Hello, world!'));
  });

  it('stops soon after the count passes stopAbove: deciding a context costs at most the context', async () => {
    const doc = FIXED.join('\n').repeat(200);
    const full = counter.count(doc);
    const stopped = await counter.countYielding(doc, 4, 1_000);
    expect(stopped).toBeGreaterThan(1_000);
    // Checked every 256 pieces: a few hundred tokens past the limit at most, far from the full count.
    expect(stopped).toBeLessThan(2_000);
    expect(full).toBeGreaterThan(20_000);
    expect(await counter.countYielding(doc, 4, full)).toBe(full);
  });

  it('yields inside one long piece too (an unbroken word, CJK without punctuation), with the same count', async () => {
    const next = rng(5);
    let word = '';
    while (word.length < 40_000) word += 'abcdefghijklmnopqrstuvwxyz'[Math.floor(next() * 26)];
    const cjk = '東京は大きな都市です中文文本的标记数量'.repeat(2_000);
    for (const text of [word, cjk, `intro ${word} outro`]) {
      let gaps = 0;
      const timer = setInterval(() => gaps++, 1);
      const n = await counter.countYielding(text, 1);
      clearInterval(timer);
      expect(n).toBe(counter.count(text));
      expect(gaps).toBeGreaterThan(0);
    }
  });
});
