// The one request shape every target gets, and the checks that a reply is really correct.

export const REPLY_TEXT =
  'The quick brown fox jumps over the lazy dog while the benchmark counts every token that flows through the gateway today.';
/** Content deltas the fake cuts the text into: role + 17 deltas + finish + usage = 20 data chunks. */
export const DELTAS = 17;

export const GATEWAY_MODEL = 'openai/gpt-4o-mini';
export const UPSTREAM_MODEL = 'gpt-4o-mini';

const MESSAGES = [
  { role: 'system', content: 'You are a helpful assistant. Answer in one sentence.' },
  { role: 'user', content: 'Tell me something short about benchmarks and gateways, please.' },
];

/** Request body (a string, sent verbatim) for a target and a mode ('json' | 'stream'). */
export function requestBody(model, mode) {
  const body = { model, messages: MESSAGES };
  if (mode === 'stream') {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return JSON.stringify(body);
}

/** Throws unless `text` is a complete, correct non-streamed chat completion. */
export function checkJson(status, headers, text, expectModel) {
  if (status !== 200) throw new Error(`HTTP ${status}: ${text.slice(0, 500)}`);
  const b = JSON.parse(text);
  if (b.object !== 'chat.completion') throw new Error(`object is ${b.object}`);
  if (b.model !== expectModel) throw new Error(`model is ${b.model}, expected ${expectModel}`);
  const content = b.choices?.[0]?.message?.content;
  if (content !== REPLY_TEXT) throw new Error(`content is ${JSON.stringify(content)}`);
  if (b.choices[0].finish_reason !== 'stop') throw new Error(`finish_reason is ${b.choices[0].finish_reason}`);
  if (!(b.usage?.prompt_tokens > 0 && b.usage?.completion_tokens > 0)) throw new Error(`usage is ${JSON.stringify(b.usage)}`);
  return { bytes: Buffer.byteLength(text), usage: b.usage };
}

/** Throws unless `text` is a complete, correct SSE stream; returns its shape. */
export function checkStream(status, headers, text, expectModel) {
  if (status !== 200) throw new Error(`HTTP ${status}: ${text.slice(0, 500)}`);
  const ct = String(headers['content-type'] ?? '');
  if (!ct.startsWith('text/event-stream')) throw new Error(`content-type is ${ct}`);
  const events = text
    .split('\n\n')
    .map((e) => e.trim())
    .filter((e) => e.startsWith('data:'))
    .map((e) => e.slice(5).trim());
  if (events[events.length - 1] !== '[DONE]') throw new Error(`stream does not end with [DONE]: ${text.slice(-200)}`);
  let content = '';
  let usage;
  let finish;
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  for (const c of chunks) {
    if (c.object !== 'chat.completion.chunk') throw new Error(`chunk object is ${c.object}`);
    if (c.model !== expectModel) throw new Error(`chunk model is ${c.model}, expected ${expectModel}`);
    const ch = c.choices?.[0];
    if (ch?.delta?.content) content += ch.delta.content;
    if (ch?.finish_reason) finish = ch.finish_reason;
    if (c.usage) usage = c.usage;
  }
  if (content !== REPLY_TEXT) throw new Error(`streamed content is ${JSON.stringify(content)}`);
  if (finish !== 'stop') throw new Error(`finish_reason is ${finish}`);
  if (!(usage?.prompt_tokens > 0 && usage?.completion_tokens > 0)) throw new Error(`no usage chunk (usage ${JSON.stringify(usage)})`);
  return { bytes: Buffer.byteLength(text), chunks: chunks.length, usage };
}
