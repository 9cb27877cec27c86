// Clones this worker's database from the migrated template on first use.
const { admin } = require('./pg-admin');

beforeAll(async () => {
  const name = process.env.GW_TEST_DB;
  const template = process.env.GW_TEST_TEMPLATE;
  if (!name || !template) return;
  await admin(async (c) => {
    const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`).catch((e) => {
        if (!/already exists/.test(String(e))) throw e;
      });
    }
  });
});
