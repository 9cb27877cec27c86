#!/usr/bin/env node
// `npm run soak`: the gateway under a steady open-loop load with faults for SOAK_MINUTES
// (reliability T55, load target L3), checking that nothing leaks and the money adds up.
// See bench/README.md ("npm run soak").
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Agent, request } from 'undici';
import { memory } from './lib/proc.mjs';
import { GATEWAY_MODEL, requestBody } from './lib/workload.mjs';
import { envNumber, freePort, inheritedEnv, pgAdmin, sleep, Stack } from './lib/stack.mjs';

const { Redis } = createRequire(import.meta.url)('ioredis');

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const num = envNumber;
const cfg = {
  minutes: num('SOAK_MINUTES', 10),
  rps: num('SOAK_RPS', 300),
  warmupMinutes: num('SOAK_WARMUP_MINUTES', 0) || Math.min(2, num('SOAK_MINUTES', 10) / 5),
  sampleS: num('SOAK_SAMPLE_S', 10),
  streamShare: num('SOAK_STREAM_SHARE', 0.5),
  clientAbort: num('SOAK_CLIENT_ABORT', 0.05),
  faults: { error5xx: num('SOAK_UPSTREAM_5XX', 0.02), cut: num('SOAK_UPSTREAM_CUT', 0.01), stall: num('SOAK_UPSTREAM_STALL', 0.01), stallMs: 2000 },
  latencyMs: num('SOAK_UPSTREAM_LATENCY_MS', 50),
  chunkMs: num('SOAK_CHUNK_MS', 5),
  quiesceS: num('SOAK_QUIESCE_S', 40),
  /** Every this many seconds the tenant adds its own provider key (BYOK) or deletes it; 0: never. */
  byokChurnS: num('SOAK_BYOK_CHURN_S', 5),
  pgUrl: env.BENCH_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres',
  redisUrl: env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
};
/** L3's pass conditions (reliability.md §c.3). */
const LIMITS = { rssGrowth: 0.1, slopeMbPerMin: 1, heapDrift: 0.05, keysDrift: 0.01 };

const t0 = performance.now();
const log = (...a) => console.error(`[soak ${((performance.now() - t0) / 1000).toFixed(1).padStart(7)}s]`, ...a);
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const resultsDir = path.join(ROOT, 'bench/results');
const logDir = path.join(resultsDir, `soak-${stamp}-logs`);
fs.mkdirSync(logDir, { recursive: true });
const run = randomBytes(4).toString('hex');
const stack = new Stack({ root: ROOT, logDir, pgUrl: cfg.pgUrl, redisUrl: cfg.redisUrl, dbName: `gw_soak_${run}`, redisPrefix: `gwsoak_${run}:`, log });
stack.installExitHandlers();

/** The child's memory, live heap (after a full GC when asked) and active resources by type. */
async function inspect(child, gc = false) {
  child.proc.send({ type: 'mem', gc });
  const m = await stack.waitMessage(child, 'mem', 10_000);
  return { rss: memory(child.proc.pid)?.rss ?? 0, heapUsed: m.usage.heapUsed, resources: m.resources };
}

/** Keys under the run's prefix, and how many of them never expire (a hold, marker or window leak). */
async function keyCensus(redis) {
  let total = 0;
  let persistent = 0;
  /** Persistent keys by shape (ids replaced by *), to say what grew. */
  const shapes = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `gwsoak_${run}:*`, 'COUNT', 1000);
    cursor = next;
    total += keys.length;
    if (keys.length) {
      const ttls = await keys.reduce((p, k) => p.pttl(k), redis.pipeline()).exec();
      ttls.forEach(([, ttl], i) => {
        if (ttl !== -1) return;
        persistent++;
        const shape = keys[i].slice(`gwsoak_${run}:`.length).replace(/[a-z]+_[A-Za-z0-9]+|\{\d+\}|\d{6,}/g, '*');
        shapes[shape] = (shapes[shape] ?? 0) + 1;
      });
    }
  } while (cursor !== '0');
  return { total, persistent, shapes };
}

/** Key shapes whose persistent count changed between two censuses. */
function grownShapes(before, after) {
  const out = {};
  for (const k of new Set([...Object.keys(before?.shapes ?? {}), ...Object.keys(after.shapes)])) {
    const d = (after.shapes[k] ?? 0) - (before?.shapes[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Least-squares slope of (minute, MB) points. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main() {
  log(`run ${run}: ${cfg.minutes} min at ${cfg.rps} req/s, faults ${JSON.stringify(cfg.faults)}, client aborts ${cfg.clientAbort}, logs in ${path.relative(ROOT, logDir)}`);
  const databaseUrl = stack.migrate();
  const baseEnv = inheritedEnv();
  const upstream = stack.spawnNode('upstream', path.join(ROOT, 'bench/lib/soak-upstream-child.mjs'), { ...baseEnv, SOAK_FAULTS: JSON.stringify(cfg.faults), SOAK_UPSTREAM_LATENCY_MS: String(cfg.latencyMs), SOAK_CHUNK_MS: String(cfg.chunkMs) });
  const upstreamUrl = (await stack.waitMessage(upstream, 'ready')).url;
  // A stall outlasts these timeouts: the gateway must time it out, retry or fail, and settle.
  // BYOK churn points the tenant's own keys at the local fake: private, plain-http URLs allowed.
  const churnEnv = cfg.byokChurnS > 0 ? { ALLOW_PRIVATE_PROVIDER_URLS: 'true', PROVIDER_URL_HTTPS_ONLY: 'false', PROVIDER_URL_PORTS: 'any' } : {};
  const appEnv = stack.appEnv(databaseUrl, upstreamUrl, 'sk-soak-upstream', { UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '1000', UPSTREAM_IDLE_TIMEOUT_MS: '1000', ...churnEnv });
  const { tenant, apiKey, token, admin, adminUrl } = await stack.fundedTenant(appEnv, 'soak', 1_000_000, undefined, { keepAdmin: cfg.byokChurnS > 0 });
  const ports = { billing: await freePort(), gateway: await freePort() };
  const billing = stack.spawnNode('billing', path.join(ROOT, 'apps/billing/dist/main.js'), { ...appEnv, PORT: String(ports.billing) });
  const gateway = stack.spawnNode('gateway', path.join(ROOT, 'apps/gateway/dist/main.js'), { ...appEnv, PORT: String(ports.gateway) });
  const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
  await Promise.all([stack.waitHttpReady(billing, `http://127.0.0.1:${ports.billing}/readyz`), stack.waitHttpReady(gateway, `${gatewayUrl}/readyz`)]);
  const redis = new Redis(cfg.redisUrl);
  const credits = async () => JSON.parse(await (await request(`${gatewayUrl}/v1/credits`, { headers: { authorization: `Bearer ${apiKey.key}` } })).body.text()).data;

  const baseline = await inspect(gateway, true);
  log(`baseline: RSS ${(baseline.rss / 2 ** 20).toFixed(0)} MB, live heap ${(baseline.heapUsed / 2 ** 20).toFixed(1)} MB, resources ${JSON.stringify(baseline.resources)}`);

  // Open loop: requests leave on schedule whether or not earlier ones have finished.
  const dispatcher = new Agent({ connections: 512, keepAliveTimeout: 5_000 });
  const bodies = { json: requestBody(GATEWAY_MODEL, 'json'), stream: requestBody(GATEWAY_MODEL, 'stream') };
  const outcomes = {};
  const note = (k) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
  let inFlight = 0;
  let sent = 0;
  const fire = () => {
    const mode = Math.random() < cfg.streamShare ? 'stream' : 'json';
    const ac = new AbortController();
    const abortAt = Math.random() < cfg.clientAbort ? setTimeout(() => ac.abort(), Math.random() * 200) : null;
    inFlight++;
    sent++;
    request(`${gatewayUrl}/v1/chat/completions`, { method: 'POST', dispatcher, signal: ac.signal, headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey.key}` }, body: bodies[mode] })
      .then(async (res) => {
        const text = await res.body.text();
        note(`${mode} ${res.statusCode}${res.statusCode === 200 && mode === 'stream' && !text.includes('[DONE]') ? ' cut' : ''}`);
      })
      .catch((e) => note(ac.signal.aborted ? `${mode} client abort` : `${mode} ${e.code ?? e.name}`))
      .finally(() => {
        if (abortAt) clearTimeout(abortAt);
        inFlight--;
      });
  };
  // BYOK churn: the tenant's own key comes and goes while requests run (tenant-cache invalidation,
  // sealed-key decryption, the guarded agent's pools for two origins: 127.0.0.1 and localhost).
  const churn = { added: 0, deleted: 0, failed: 0 };
  let ownKey = null;
  const adminCall = (method, p, body) =>
    request(`${adminUrl}${p}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined }).then(async (r) => ({ status: r.statusCode, body: await r.body.text() }));
  // One change at a time: the next is scheduled when the last has answered.
  let churning = true;
  let churnStep = Promise.resolve();
  const churnOnce = async () => {
    try {
      if (ownKey) {
        const r = await adminCall('DELETE', `/api/provider-keys/${ownKey}`);
        if (r.status !== 200) throw new Error(`delete ${r.status}`);
        ownKey = null;
        churn.deleted++;
      } else {
        const r = await adminCall('POST', '/api/provider-keys', { provider: 'openai', api_key: 'sk-soak-upstream', base_url: `${churn.added % 2 ? upstreamUrl.replace('127.0.0.1', 'localhost') : upstreamUrl}/v1`, priority: 'first' });
        if (r.status !== 201) throw new Error(`add ${r.status} ${r.body.slice(0, 200)}`);
        ownKey = JSON.parse(r.body).id;
        churn.added++;
      }
    } catch (e) {
      churn.failed++;
      log(`BYOK churn: ${e.message}`);
    }
  };
  const churnLoop = async () => {
    while (churning) {
      await sleep(cfg.byokChurnS * 1000);
      if (churning) await (churnStep = churnOnce());
    }
  };
  if (cfg.byokChurnS > 0) void churnLoop();
  const samples = [];
  const endAt = Date.now() + cfg.minutes * 60_000;
  const startedAt = Date.now();
  let due = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    due += ((now - last) / 1000) * cfg.rps;
    last = now;
    for (; due >= 1; due--) fire();
  }, 5);
  let heapAtWarmup = null;
  /** Keys at the end of the warm-up: by then every structural key (usage streams, queues) exists. */
  let keysAtWarmup = null;
  while (Date.now() < endAt) {
    await sleep(cfg.sampleS * 1000);
    if (gateway.exited) throw new Error(`the gateway exited (${gateway.code}) during the soak`);
    const minute = (Date.now() - startedAt) / 60_000;
    const s = { minute, rss: memory(gateway.proc.pid)?.rss ?? 0, inFlight, sent };
    if (heapAtWarmup === null && minute >= cfg.warmupMinutes) {
      heapAtWarmup = (await inspect(gateway, true)).heapUsed;
      keysAtWarmup = await keyCensus(redis);
      s.heapAfterGc = heapAtWarmup;
    }
    samples.push(s);
    log(`${minute.toFixed(1)} min: ${sent} sent, ${inFlight} in flight, gateway RSS ${(s.rss / 2 ** 20).toFixed(1)} MB`);
  }
  clearInterval(ticker);
  churning = false;
  await churnStep;
  log(`load stopped after ${sent} requests; waiting for the last answers and ${cfg.quiesceS} s of quiet`);
  for (let i = 0; i < 600 && inFlight > 0; i++) await sleep(100);
  await dispatcher.close();
  await sleep(cfg.quiesceS * 1000);

  // Quiesced: memory, handles, keys and money.
  const end = { ...(await inspect(gateway, true)), keys: await keyCensus(redis) };
  const c = await credits();
  const [{ sum }] = (await pgAdmin(databaseUrl, (db) => db.query('SELECT COALESCE(SUM(amount_micros), 0)::text AS sum FROM ledger_entries WHERE tenant_id = $1', [tenant.id]))).rows;
  const logs = (await pgAdmin(databaseUrl, (db) => db.query('SELECT count(*)::int AS n FROM request_logs WHERE tenant_id = $1', [tenant.id]))).rows[0].n;
  // The gateway's own clock for the served requests: its overhead (to the hold), and the total.
  const [timing] = (
    await pgAdmin(databaseUrl, (db) =>
      db.query(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY overhead_ms) AS o50, percentile_cont(0.99) WITHIN GROUP (ORDER BY overhead_ms) AS o99,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY total_ms) AS t50, percentile_cont(0.99) WITHIN GROUP (ORDER BY total_ms) AS t99
         FROM request_logs WHERE tenant_id = $1 AND status = 200`,
        [tenant.id],
      ),
    )
  ).rows;
  const byokFees = cfg.byokChurnS > 0 ? (await pgAdmin(databaseUrl, (db) => db.query("SELECT count(*)::int AS n FROM ledger_entries WHERE tenant_id = $1 AND kind = 'byok_fee'", [tenant.id]))).rows[0].n : 0;
  if (admin) await stack.stopChild(admin);
  upstream.proc.send({ type: 'counts' });
  const upstreamCounts = (await stack.waitMessage(upstream, 'counts')).counts;
  await redis.quit();

  const afterWarmup = samples.filter((s) => s.minute >= cfg.warmupMinutes);
  const rssWarm = afterWarmup[0]?.rss ?? samples[0]?.rss ?? 0;
  const rssMax = Math.max(...afterWarmup.map((s) => s.rss));
  const lastHalf = samples.filter((s) => s.minute >= cfg.minutes / 2).map((s) => [s.minute, s.rss / 2 ** 20]);
  const mbPerMin = slope(lastHalf);
  const resourcesOf = (r) => Object.entries(r).filter(([k]) => k !== 'TTYWrap').reduce((a, [, v]) => a + v, 0);
  const balanceMicros = BigInt(Math.round(c.balance * 1e6));
  const checks = [
    ['RSS growth after warm-up (max vs first sample)', `≤ ${LIMITS.rssGrowth * 100}%`, `${(((rssMax - rssWarm) / rssWarm) * 100).toFixed(1)}% (${(rssWarm / 2 ** 20).toFixed(0)} → max ${(rssMax / 2 ** 20).toFixed(0)} MB)`, rssMax <= rssWarm * (1 + LIMITS.rssGrowth)],
    ['RSS slope over the second half', `< ${LIMITS.slopeMbPerMin} MB/min`, `${mbPerMin.toFixed(2)} MB/min`, mbPerMin < LIMITS.slopeMbPerMin],
    // The warm-up sample is taken under load (what is in flight is live); the end one at quiesce.
    // A leak grows the heap; less at the end is the in-flight requests gone.
    ['live heap after a full GC, end vs warm-up', `≤ +${LIMITS.heapDrift * 100}%`, `${(heapAtWarmup / 2 ** 20).toFixed(1)} → ${(end.heapUsed / 2 ** 20).toFixed(1)} MB`, heapAtWarmup !== null && end.heapUsed - heapAtWarmup <= heapAtWarmup * LIMITS.heapDrift],
    ['active handles at quiesce vs before the load', 'back to baseline', `${resourcesOf(baseline.resources)} → ${resourcesOf(end.resources)} ${JSON.stringify(end.resources)}`, resourcesOf(end.resources) <= resourcesOf(baseline.resources)],
    // Growth is what a leak looks like; fewer keys at the end are the ones that live only while
    // requests are in flight (a tenant's holds set and its expiry index), gone at quiesce.
    ['Redis keys that never expire, end vs warm-up', `≤ +${LIMITS.keysDrift * 100}%`, `${keysAtWarmup?.persistent} → ${end.keys.persistent} ${JSON.stringify(grownShapes(keysAtWarmup, end.keys))} (all keys ${keysAtWarmup?.total} → ${end.keys.total}; the rest expire)`, keysAtWarmup !== null && end.keys.persistent - keysAtWarmup.persistent <= Math.max(2, keysAtWarmup.persistent * LIMITS.keysDrift)],
    ['holds left (Σ reserved)', '0', String(c.reserved), c.reserved === 0],
    ['ledger sum == Redis balance (/v1/credits)', 'equal to the micro', `${sum} vs ${balanceMicros}`, BigInt(sum) === balanceMicros],
    ...(cfg.byokChurnS > 0 ? [['BYOK churn: own keys added and deleted, requests served on them', `every ${cfg.byokChurnS} s, no failure, BYOK fees charged`, `${churn.added} added, ${churn.deleted} deleted, ${churn.failed} failed; ${byokFees} BYOK fee entries`, churn.failed === 0 && churn.added > 0 && byokFees > 0]] : []),
    ['gateway 5xx that are not a fault class (500 internal)', '0', String(Object.entries(outcomes).filter(([k]) => / 500$/.test(k)).reduce((a, [, v]) => a + v, 0)), !Object.keys(outcomes).some((k) => / 500$/.test(k))],
  ];
  const ok = checks.every((x) => x[3]);
  const report = [
    `## Soak ${stamp}`,
    '',
    `${cfg.minutes} min at ${cfg.rps} req/s open loop (${sent} requests, ${Math.round(cfg.streamShare * 100)}% streamed), warm-up ${cfg.warmupMinutes} min, then ${cfg.quiesceS} s quiet. The upstream answers after ${cfg.latencyMs} ms and paces stream chunks ${cfg.chunkMs} ms apart. Faults: ${(cfg.clientAbort * 100).toFixed(0)}% of clients set to leave 0–200 ms in ("client abort" below: those still waiting when they left), upstream ${(cfg.faults.error5xx * 100).toFixed(0)}% 503, ${(cfg.faults.cut * 100).toFixed(0)}% streams cut after 6 events, ${(cfg.faults.stall * 100).toFixed(0)}% stalls of ${cfg.faults.stallMs} ms (first byte or between chunks; the gateway's timeouts are 1 s). Upstream drew: ${JSON.stringify(upstreamCounts)}.`,
    '',
    cfg.byokChurnS > 0 ? `The tenant adds its own OpenAI key (BYOK, alternately on 127.0.0.1 and localhost) or deletes it every ${cfg.byokChurnS} s: ${churn.added} added, ${churn.deleted} deleted.` : 'No BYOK churn (SOAK_BYOK_CHURN_S=0).',
    '',
    `Client outcomes: ${Object.entries(outcomes).sort().map(([k, v]) => `${k}: ${v}`).join(', ')}. Request logs written: ${logs}. ` +
      `Served requests by the gateway's clock: overhead before the upstream call p50 ${ms(timing?.o50)} / p99 ${ms(timing?.o99)} ms, total p50 ${ms(timing?.t50)} / p99 ${ms(timing?.t99)} ms (the upstream's ${cfg.latencyMs} ms included).`,
    '',
    '| minute | gateway RSS MB | in flight |',
    '|---:|---:|---:|',
    ...samples.map((s) => `| ${s.minute.toFixed(1)} | ${(s.rss / 2 ** 20).toFixed(1)} | ${s.inFlight} |`),
    '',
    '| check (L3) | limit | measured | result |',
    '|---|---|---|---|',
    ...checks.map(([name, limit, measured, pass]) => `| ${name} | ${limit} | ${measured} | ${pass ? 'PASS' : '**FAIL**'} |`),
    '',
    `**Overall: ${ok ? 'PASS' : 'FAIL'}**`,
  ].join('\n');
  fs.writeFileSync(path.join(resultsDir, `soak-${stamp}.md`), `${report}\n`);
  console.log(report);
  return ok;
}

const hardStop = setTimeout(() => {
  log('time limit reached: aborting');
  stack.cleanup().finally(() => process.exit(124));
}, (cfg.minutes * 60 + cfg.quiesceS + 600) * 1000);
hardStop.unref();

main()
  .then(async (ok) => {
    await stack.cleanup();
    process.exit(ok ? 0 : 3);
  })
  .catch(async (e) => {
    log(`soak failed: ${e.stack ?? e}`);
    await stack.cleanup();
    process.exit(1);
  });

function ms(v) {
  return typeof v === 'number' ? v.toFixed(3) : '—';
}
