// Drops this run's worker databases and deletes its Redis keys.
const Redis = require('ioredis');
const { admin } = require('./pg-admin');

module.exports = async () => {
  const run = process.env.GW_TEST_RUN;
  if (!run) return;
  await admin(async (c) => {
    const { rows } = await c.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [`gw_t_${run}_%`]);
    for (const r of rows) await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  });
  const redis = new Redis(process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `t${run}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
  await redis.quit();
};
