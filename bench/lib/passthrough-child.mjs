// The floor of any Node proxy: plain Fastify 5 + an undici Pool, no auth, logging or metrics.
// The JSON body is parsed and re-serialised (a gateway must at least read `model`/`stream`), the
// upstream body is piped back untouched (SSE stays streamed, chunk by chunk).
//
// EXPERIMENT (BENCH_FLOOR_REDIS=1, never on by default): the same proxy plus what the gateway's
// design adds on the wire, and nothing else: one EVALSHA before the upstream call with the reserve
// script's argument count (8 keys, 16 args) and one after the answer with the settle script's
// (6 keys, 9 args, the last the event's JSON), through ioredis like the gateway, and the
// non-streamed answer parsed and re-serialised (the gateway reads the usage). The scripts are
// stand-ins that return replies of the real ones' shape, so this measures the proxy's side only.
import Fastify from 'fastify';
import { Pool } from 'undici';

const upstream = process.env.UPSTREAM_URL;
const authorization = `Bearer ${process.env.UPSTREAM_KEY ?? 'sk-bench'}`;
if (!upstream) throw new Error('UPSTREAM_URL is not set');
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024, keepAliveTimeout: 65_000 });
const floor = process.env.BENCH_FLOOR_REDIS === '1' ? await floorScripts() : null;

app.post('/v1/chat/completions', async (req, reply) => {
  const id = floor ? await floor.reserve() : '';
  const res = await pool.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(req.body),
  });
  reply.code(res.statusCode);
  const ct = res.headers['content-type'];
  if (ct) reply.header('content-type', ct);
  if (typeof ct === 'string' && ct.startsWith('text/event-stream')) {
    reply.header('cache-control', 'no-cache');
    if (floor) res.body.once('end', () => void floor.settle(id));
    return reply.send(res.body);
  }
  if (!floor) return reply.send(res.body);
  const answer = await res.body.json();
  reply.send(JSON.stringify(answer));
  await floor.settle(id);
});
app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ port: 0, host: '127.0.0.1' });
process.send?.({ type: 'ready', url: `http://127.0.0.1:${app.server.address().port}` });
const stop = () => app.close().then(() => pool.close()).finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

async function floorScripts() {
  const { Redis } = await import('ioredis');
  const redis = new Redis(process.env.BENCH_FLOOR_REDIS_URL || 'redis://127.0.0.1:6379');
  const prefix = `gwfloor:${process.pid}:{t}:`;
  const reserveSha = await redis.script('LOAD', "return {'ok', ARGV[5], '999999999', '0', ARGV[7]}");
  const settleSha = await redis.script('LOAD', "return {'settled', '1795670284000-0', '1000', '999999000'}");
  const keys = (n) => Array.from({ length: n }, (_, i) => `${prefix}k${i}`);
  const reserveKeys = keys(8);
  const settleKeys = keys(6);
  let n = 0;
  return {
    async reserve() {
      const id = `gen-floor${process.pid}x${++n}`;
      const now = Date.now();
      await redis.evalsha(reserveSha, 8, ...reserveKeys, 'reserve', 'ten_floor', 'key_floor', id, '12345', '0', String(now + 900_000), String(now), '60000', String(now - (now % 60000)), '', '', '300', '', '', '120000');
      return id;
    },
    async settle(id) {
      const event = {};
      for (let i = 0; i < 20; i++) event[`field${i}`] = `value-${i}-${id}`;
      await redis.evalsha(settleSha, 6, ...settleKeys, 'ten_floor', 'key_floor', id, '1000', '0', '', '0', '86400000', JSON.stringify(event));
    },
  };
}
