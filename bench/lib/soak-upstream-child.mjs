// The soak's fake upstream: the bench's reply, with a random share of faults per request
// (reliability T55). SOAK_FAULTS is JSON: { error5xx, cut, stall, stallMs } as fractions of requests
// (a stall sends nothing for stallMs, before the headers or between stream chunks). The fake picks
// before it reads the body, so cuts and between-chunk stalls are also drawn for non-streamed
// requests, where they change nothing: the counts are of faults drawn, not applied. Every answer
// takes SOAK_UPSTREAM_LATENCY_MS before its headers and streams pace their chunks SOAK_CHUNK_MS
// apart, so requests are in flight long enough for clients to leave in the middle.
import { createRequire } from 'node:module';
import { DELTAS, REPLY_TEXT } from './workload.mjs';

const require = createRequire(import.meta.url);
const { FakeOpenAiServer } = require('@gw/testing');
const faults = JSON.parse(process.env.SOAK_FAULTS ?? '{}');
const counts = { ok: 0, error5xx: 0, cut: 0, stall: 0 };

class SoakUpstream extends FakeOpenAiServer {
  /** The fake's own choice (queue or defaults), with a fault drawn on top. */
  pick(header) {
    const b = super.pick(header);
    let r = Math.random();
    if ((r -= faults.error5xx ?? 0) < 0) return count('error5xx', { ...b, status: 503 });
    if ((r -= faults.cut ?? 0) < 0) return count('cut', { ...b, cutAfterEvents: 6, cutMode: 'destroy' });
    if ((r -= faults.stall ?? 0) < 0) return count('stall', { ...b, ...(Math.random() < 0.5 ? { headerDelayMs: faults.stallMs } : { chunkDelayMs: faults.stallMs }) });
    return count('ok', b);
  }
}

function count(kind, b) {
  counts[kind]++;
  return b;
}

const latency = Number(process.env.SOAK_UPSTREAM_LATENCY_MS ?? 50);
const chunkMs = Number(process.env.SOAK_CHUNK_MS ?? 5);
const server = new SoakUpstream({ maxRecorded: 0, defaults: { text: REPLY_TEXT, deltas: DELTAS, headerDelayMs: latency, chunkDelayMs: chunkMs } });
const url = await server.start();
process.send?.({ type: 'ready', url });
process.on('message', (m) => m?.type === 'counts' && process.send?.({ type: 'counts', counts }));
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
