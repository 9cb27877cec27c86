// EXPERIMENT (not product code): Settlement.settle resolves at once and settles in the background,
// so a non-streamed answer is sent without waiting for the settle round trip (streams already
// settle after the last byte). Measures what moving settle off the response path would save.
//   BENCH_GATEWAY_PRELOAD=bench/experiments/settle-off-response-path.cjs npm run bench
'use strict';
const Module = require('node:module');
const orig = Module.prototype.require;
let patched = false;
Module.prototype.require = function (id) {
  const m = orig.apply(this, arguments);
  if (!patched && /(^|[\\/])settlement(\.js)?$/.test(id) && m && m.Settlement) {
    patched = true;
    const settle = m.Settlement.prototype.settle;
    m.Settlement.prototype.settle = function (...args) {
      settle.apply(this, args).catch(() => undefined);
      return Promise.resolve();
    };
  }
  return m;
};
