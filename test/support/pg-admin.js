// Small helpers the Jest setup uses to manage throwaway databases on the local Postgres.
const { Client } = require('pg');

function serverUrl() {
  return process.env.TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(fn) {
  const c = new Client({ connectionString: serverUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

module.exports = { serverUrl, withDatabase, admin };
