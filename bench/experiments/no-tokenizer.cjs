// EXPERIMENT (not product code): `gpt-tokenizer` replaced by a bytes/4 estimate, to see what the
// lazily loaded tokenizer (first client-aborted or usage-less stream) costs in RSS and stall time.
//   BENCH_B_PRELOAD=bench/experiments/no-tokenizer.cjs npm run bench
'use strict';
const Module = require('node:module');
const orig = Module.prototype.require;
Module.prototype.require = function (id) {
  if (id === 'gpt-tokenizer') return { countTokens: (text) => Math.ceil(Buffer.byteLength(String(text)) / 4) };
  return orig.apply(this, arguments);
};
