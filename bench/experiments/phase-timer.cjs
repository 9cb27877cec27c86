// EXPERIMENT (instrumentation, not product code): times the gateway's phases per request, per mode
// (json/stream), by wrapping the compiled classes' methods as they load:
//   handle   ChatCompletionsService.handle (hold + upstream + answer/relay + settle)
//   auth     KeyCache.resolve            hold   Reservations.hold
//   upstream UpstreamClient.post (to response headers)
//   settle   Settlement.settle (awaited before a non-streamed reply is sent)
// The bench asks for the figures over IPC around its c=1 probe ({type:'phases-reset'} / {type:'phases'}).
//   BENCH_GATEWAY_PRELOAD=bench/experiments/phase-timer.cjs node bench/run.mjs
'use strict';
const Module = require('node:module');
const { AsyncLocalStorage } = require('node:async_hooks');

const als = new AsyncLocalStorage();
const MAX = 200_000;
let samples = {};
const record = (phase, ms) => {
  const mode = als.getStore() ?? 'other';
  const k = `${mode}:${phase}`;
  const a = (samples[k] ??= []);
  if (a.length < MAX) a.push(ms);
};
function wrap(proto, name, phase, enter) {
  const orig = proto[name];
  if (typeof orig !== 'function' || orig.__phaseTimed) return;
  const wrapped = function (...args) {
    const run = () => {
      const t = performance.now();
      const p = orig.apply(this, args);
      if (p && typeof p.then === 'function') return p.finally(() => record(phase, performance.now() - t));
      record(phase, performance.now() - t);
      return p;
    };
    return enter ? als.run(enter(args), run) : run();
  };
  wrapped.__phaseTimed = true;
  proto[name] = wrapped;
}
const targets = [
  ['ChatCompletionsService', 'handle', 'handle', (args) => (args[0]?.body?.stream ? 'stream' : 'json')],
  ['KeyCache', 'resolve', 'auth'],
  ['Reservations', 'hold', 'hold'],
  ['UpstreamClient', 'post', 'upstream'],
  ['Settlement', 'settle', 'settle'],
];
const orig = Module.prototype.require;
Module.prototype.require = function () {
  const m = orig.apply(this, arguments);
  if (m && typeof m === 'object') for (const [cls, method, phase, enter] of targets) if (typeof m[cls] === 'function') wrap(m[cls].prototype, method, phase, enter);
  return m;
};
const q = (s, p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
process.on('message', (m) => {
  if (m?.type === 'phases-reset') samples = {};
  else if (m?.type === 'phases') {
    const out = {};
    for (const [k, v] of Object.entries(samples)) {
      const s = Float64Array.from(v).sort();
      out[k] = { n: s.length, p50: q(s, 0.5), p90: q(s, 0.9), p99: q(s, 0.99) };
    }
    process.send?.({ type: 'phases', phases: out });
  }
});
