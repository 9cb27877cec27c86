// EXPERIMENT (not product code): what the o200k vocabulary costs a process, gpt-tokenizer's
// in-memory ranks against the gateway's TokenCounter (libs/gateway/src/chat/token-counter.ts).
// Each variant runs in a fresh process; prints RSS before and after loading and counting.
//   npm run build && node bench/experiments/tokenizer-memory.cjs
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const variants = {
  'gpt-tokenizer (o200k_base)': `const t = require('gpt-tokenizer/encoding/o200k_base'); count = (s) => t.countTokens(s);`,
  'TokenCounter (o200k_base)': `const { TokenCounter } = require(${JSON.stringify(path.resolve(__dirname, '../../libs/gateway/dist/chat/token-counter.js'))}); const c = TokenCounter.o200k(); count = (s) => c.count(s);`,
};

const probe = (load) => `
const fs = require('node:fs');
const hwm = () => Number(fs.readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\\s+(\\d+)/)[1]) / 1024;
const before = process.memoryUsage().rss / 1048576;
const t0 = performance.now();
let count;
${load}
const loadMs = performance.now() - t0;
const text = 'The quick brown fox jumps over the lazy dog. '.repeat(2000) + Array.from({ length: 5000 }, (_, i) => 'word' + i * 7919).join(' ');
const tokens = count(text);
global.gc();
console.log(JSON.stringify({ before, after: process.memoryUsage().rss / 1048576, peak: hwm(), loadMs, tokens }));
`;

const rows = [];
for (const [name, load] of Object.entries(variants)) {
  const r = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', probe(load)], { cwd: path.resolve(__dirname, '../..') }).toString());
  rows.push({ variant: name, 'RSS before MB': r.before.toFixed(1), 'RSS after MB': r.after.toFixed(1), 'added MB': (r.after - r.before).toFixed(1), 'peak MB': r.peak.toFixed(1), 'load ms': r.loadMs.toFixed(0), tokens: r.tokens });
}
console.table(rows);
