// The floor of any Node proxy: plain Fastify 5 + an undici Pool, no auth, logging or metrics.
// The JSON body is parsed and re-serialised (a gateway must at least read `model`/`stream`), the
// upstream body is piped back untouched (SSE stays streamed, chunk by chunk).
import Fastify from 'fastify';
import { Pool } from 'undici';

const upstream = process.env.UPSTREAM_URL;
const authorization = `Bearer ${process.env.UPSTREAM_KEY ?? 'sk-bench'}`;
if (!upstream) throw new Error('UPSTREAM_URL is not set');
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024, keepAliveTimeout: 65_000 });

app.post('/v1/chat/completions', async (req, reply) => {
  const res = await pool.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(req.body),
  });
  reply.code(res.statusCode);
  const ct = res.headers['content-type'];
  if (ct) reply.header('content-type', ct);
  if (typeof ct === 'string' && ct.startsWith('text/event-stream')) reply.header('cache-control', 'no-cache');
  return reply.send(res.body);
});
app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ port: 0, host: '127.0.0.1' });
process.send?.({ type: 'ready', url: `http://127.0.0.1:${app.server.address().port}` });
const stop = () => app.close().then(() => pool.close()).finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
