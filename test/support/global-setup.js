// Builds (or reuses) a migrated template database keyed by the migrations' checksum, and gives the
// run an id so that each Jest worker clones its own database and uses its own Redis prefix.
const { execFileSync } = require('node:child_process');
const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { admin, serverUrl, withDatabase } = require('./pg-admin');

const root = path.resolve(__dirname, '../..');

function migrationsDigest() {
  const dir = path.join(root, 'prisma/migrations');
  const h = createHash('sha256');
  if (fs.existsSync(dir)) {
    for (const d of fs.readdirSync(dir).sort()) {
      const f = path.join(dir, d, 'migration.sql');
      if (fs.existsSync(f)) h.update(d).update(fs.readFileSync(f));
    }
  }
  return h.digest('hex').slice(0, 12);
}

module.exports = async () => {
  const run = randomBytes(4).toString('hex');
  process.env.GW_TEST_RUN = run;
  const template = `gw_tpl_${migrationsDigest()}`;
  process.env.GW_TEST_TEMPLATE = template;
  const exists = await admin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount > 0);
  if (!exists) {
    const tmp = `${template}_build_${run}`;
    execFileSync(process.execPath, [path.join(root, 'scripts/prisma-wasm-migrate.mjs'), 'deploy'], {
      env: { ...process.env, DATABASE_URL: withDatabase(serverUrl(), tmp) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Rename into place so a half-built template is never used by another run.
    await admin(async (c) => {
      await c.query(`ALTER DATABASE "${tmp}" RENAME TO "${template}"`).catch(async (e) => {
        await c.query(`DROP DATABASE IF EXISTS "${tmp}"`);
        if (!/already exists/.test(String(e))) throw e;
      });
    });
  }
};
