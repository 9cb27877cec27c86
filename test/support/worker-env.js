// Runs in every Jest worker before each test file: a private database per worker and a Redis
// prefix per test file (provider health, circuits and queues of one suite must not leak into the
// next suite of the same worker; the global teardown removes every `t<run>*` key).
const { randomBytes } = require('node:crypto');
const { serverUrl, withDatabase } = require('./pg-admin');

const run = process.env.GW_TEST_RUN || 'adhoc';
const worker = process.env.JEST_WORKER_ID || '0';
process.env.REDIS_PREFIX = `t${run}w${worker}f${randomBytes(3).toString('hex')}:`;
process.env.REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
process.env.GW_TEST_DB = `gw_t_${run}_${worker}`;
process.env.DATABASE_URL = withDatabase(serverUrl(), process.env.GW_TEST_DB);
process.env.NODE_ENV = 'test';
process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'silent';
