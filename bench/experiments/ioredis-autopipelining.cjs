// EXPERIMENT (not product code): every ioredis client of the process gets enableAutoPipelining,
// i.e. commands issued in the same event-loop turn leave in one socket write.
//   BENCH_GATEWAY_PRELOAD=bench/experiments/ioredis-autopipelining.cjs npm run bench
'use strict';
require('ioredis/built/redis/RedisOptions').DEFAULT_REDIS_OPTIONS.enableAutoPipelining = true;
