// Each Jest worker gets its own Redis key prefix (and, once set up, its own database).
const w = process.env.JEST_WORKER_ID || '0';
process.env.REDIS_PREFIX = process.env.REDIS_PREFIX || `t${process.pid}w${w}:`;
