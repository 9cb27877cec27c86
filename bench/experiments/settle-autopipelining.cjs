// EXPERIMENT (not product code): settles go through a second Redis connection with ioredis
// auto-pipelining, so the settles of one event-loop turn leave in one socket write; reserves
// (on the latency path) stay on the plain connection.
//   BENCH_B_PRELOAD=bench/experiments/settle-autopipelining.cjs npm run bench
// Measured A/B (2026-11-26, 3 repetitions): gateway CPU +15% per non-streamed request and +11% per
// stream, Redis server CPU -33%; c=1 latency within noise. The pipelining costs the gateway more
// than the socket writes it saves, so settles stay on the plain connection.
'use strict';
const path = require('node:path');
const { CreditStore } = require(path.resolve(__dirname, '../../libs/metering/dist/credit-store.js'));
const settle = CreditStore.prototype.settle;
const piped = new WeakMap();
CreditStore.prototype.settle = function (input) {
  let p = piped.get(this.redis);
  if (!p) {
    p = this.redis.duplicate({ enableAutoPipelining: true, connectionName: 'gw-settle' });
    piped.set(this.redis, p);
  }
  const plain = this.redis;
  this.redis = p;
  try {
    // settle() issues its EVALSHA before its first await, so the swap covers exactly that call.
    return settle.call(this, input);
  } finally {
    this.redis = plain;
  }
};
