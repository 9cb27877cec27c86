// The fake upstream under test: the project's FakeOpenAiServer (libs/testing), in its own process.
//
// Replies carry a fixed 21-word text; streams (with stream_options.include_usage) are 20 SSE data
// chunks (role, 17 content deltas, finish, usage) then `data: [DONE]`. With BENCH_STREAM_PACING=turn
// (default) each chunk is written on its own event-loop turn, as a real upstream emits tokens, so
// every hop sees separate chunks; `burst` keeps the fake's default (the whole stream in one write).
import { createRequire } from 'node:module';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DELTAS, REPLY_TEXT } from './workload.mjs';

const require = createRequire(import.meta.url);
const { FakeOpenAiServer } = require('@gw/testing');

const PACING = process.env.BENCH_STREAM_PACING === 'burst' ? 'burst' : 'turn';

class BenchUpstream extends FakeOpenAiServer {
  async sendStream(res, events, b, headers) {
    if (PACING === 'burst' || b.chunkDelayMs || b.cutAfterEvents !== undefined) return super.sendStream(res, events, b, headers);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
    res.write(events[0]);
    for (let i = 1; i < events.length; i++) {
      await nextTurn();
      if (res.destroyed) return;
      res.write(events[i]);
    }
    res.end();
  }
}

const server = new BenchUpstream({ maxRecorded: 0, defaults: { text: REPLY_TEXT, deltas: DELTAS } });
const url = await server.start();
process.send?.({ type: 'ready', url });
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
