// EXPERIMENT (instrumentation, not product code): where one request's time goes at one
// connection. For each POST /v1/chat/completions it stamps, in ms since the HTTP server emitted
// the request: the compiled classes' methods as they are entered and settle (`auth>`/`auth<`,
// `hold>`, `post>`, `settle>`, ...), each EVALSHA as it is handed to ioredis and as its reply
// resolves (`redis:send`, `redis:reply`), undici's diagnostics channels for the upstream call
// (`up:create`, `up:sent`, `up:headers`, `up:end`), the answer's `res.end()` and `finish`.
// Sequential requests (the c=1 probe) make the order unambiguous; under load the stamps of
// concurrent requests interleave and mean little.
//   BENCH_GATEWAY_PRELOAD=bench/experiments/c1-timeline.cjs node bench/run.mjs
// On exit (the bench stops the gateway with SIGTERM) it prints the medians over the last 500
// requests, in time order, to the gateway's log (bench/results/<stamp>-logs/gateway.log).
'use strict';
const http = require('node:http');
const path = require('node:path');
const dc = require('node:diagnostics_channel');

const ROOT = path.join(__dirname, '..', '..');
const rows = [];
let current = null;
const now = () => performance.now();
const stamp = (row, name) => row && row.ev.push([name, now() - row.t0]);

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res) {
  if (event === 'request' && req.url === '/v1/chat/completions') {
    const row = { t0: now(), ev: [] };
    current = row;
    const end = res.end;
    res.end = function (...args) {
      stamp(row, 'res.end');
      return end.apply(this, args);
    };
    res.on('finish', () => {
      stamp(row, 'finish');
      rows.push(row);
      if (rows.length > 2000) rows.splice(0, rows.length - 1000);
    });
  }
  return emit.apply(this, arguments);
};

for (const [channel, name] of [
  ['undici:request:create', 'up:create'],
  ['undici:client:sendHeaders', 'up:sent'],
  ['undici:request:headers', 'up:headers'],
  ['undici:request:trailers', 'up:end'],
]) {
  dc.subscribe(channel, () => stamp(current, name));
}

const Redis = require(require.resolve('ioredis', { paths: [ROOT] }));
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (command, stream) {
  const row = current;
  if (row && (command.name === 'evalsha' || command.name === 'eval')) {
    stamp(row, 'redis:send');
    command.promise.then(() => stamp(row, 'redis:reply'), () => undefined);
  }
  return sendCommand.call(this, command, stream);
};

function wrap(file, cls, method, label) {
  const C = require(path.join(ROOT, 'libs/gateway/dist', file))[cls];
  const orig = C.prototype[method];
  C.prototype[method] = function (...args) {
    const row = current;
    stamp(row, `${label}>`);
    const out = orig.apply(this, args);
    if (out && typeof out.then === 'function') out.then(() => stamp(row, `${label}<`), () => undefined);
    else stamp(row, `${label}<`);
    return out;
  };
}
wrap('auth/key-cache.js', 'KeyCache', 'resolve', 'auth');
wrap('chat/chat-completions.service.js', 'ChatCompletionsService', 'handle', 'handle');
wrap('routing/route-planner.service.js', 'RoutePlanner', 'plan', 'plan');
wrap('chat/reservation.js', 'Reservations', 'hold', 'hold');
wrap('upstream/upstream.client.js', 'UpstreamClient', 'post', 'post');
wrap('upstream/upstream.client.js', 'UpstreamClient', 'readJson', 'readJson');
wrap('chat/settlement.js', 'Settlement', 'settle', 'settle');

function report() {
  const last = rows.slice(-500);
  if (last.length === 0) return;
  const byName = new Map();
  for (const row of last) {
    const seen = {};
    for (const [name, t] of row.ev) {
      const k = `${name}#${(seen[name] = (seen[name] ?? 0) + 1)}`;
      if (!byName.has(k)) byName.set(k, []);
      byName.get(k).push(t);
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  // Stamps most requests have (a later request's work that landed in a row is left out).
  const lines = [...byName].filter(([, v]) => v.length >= last.length / 2).map(([k, v]) => [k, median(v), v.length]).sort((a, b) => a[1] - b[1]);
  console.log(`c1-timeline: medians over the last ${last.length} requests, ms since the request event`);
  for (const [k, m, n] of lines) console.log(`  ${k.padEnd(16)} ${m.toFixed(3)}  (${n})`);
}
process.once('SIGTERM', report);
