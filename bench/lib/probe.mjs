// Sequential (c=1) latency probe: one keep-alive undici connection per target, rounds interleaved
// across targets (order rotated each round) so that machine noise hits every target alike; the
// figure is the median of the round medians. TTFB = response headers for JSON, the first SSE
// `data:` chunk for streams; TTFT (streams) = the first chunk that carries text (a role-only
// first chunk does not count); total = last body byte.
import { Client } from 'undici';
import { CLK_TCK, cpuTicks } from './proc.mjs';
import { median, quantile } from './stats.mjs';

const DATA = Buffer.from('data:');
/** A delta with text, as the fake upstream sends it and as the gateway re-serialises it. */
const TEXT = /"content":"[^"]/;

async function once(client, target, mode) {
  const t0 = performance.now();
  const res = await client.request({ path: '/v1/chat/completions', method: 'POST', headers: target.headers, body: target.bodies[mode] });
  const tHead = performance.now();
  let tFirst = null;
  let tText = null;
  for await (const chunk of res.body) {
    if (tFirst === null && (mode !== 'stream' || chunk.includes(DATA))) tFirst = performance.now();
    if (mode === 'stream' && tText === null && TEXT.test(chunk.toString('latin1'))) tText = performance.now();
  }
  const tEnd = performance.now();
  return { status: res.statusCode, ttfb: (mode === 'stream' ? (tFirst ?? tEnd) : tHead) - t0, ttft: (tText ?? tEnd) - t0, total: tEnd - t0 };
}

/**
 * targets: [{ name, url, headers, bodies: { json, stream }, pid }]
 * Returns { [name]: { [mode]: { p50, p99, ttfbP50, ttfbP99, ttftP50, n, non2xx, roundMedians, cpuUsPerReq } } }
 * (ms; cpuUsPerReq: CPU of the target's own process per request at c=1, from /proc ticks summed
 * over its blocks).
 */
export async function latencyProbe({ targets, modes, rounds, perRound, warmup }) {
  const clients = new Map(targets.map((t) => [t.name, new Client(t.url, { keepAliveTimeout: 60_000, pipelining: 1 })]));
  const acc = {};
  for (const t of targets) {
    acc[t.name] = {};
    for (const m of modes) acc[t.name][m] = { total: [], ttfb: [], roundTotal: [], roundTtfb: [], roundTtft: [], non2xx: 0, ticks: 0, requests: 0 };
  }
  try {
    for (const t of targets) for (const m of modes) for (let i = 0; i < warmup; i++) await once(clients.get(t.name), t, m);
    for (let r = 0; r < rounds; r++) {
      const order = targets.map((_, i) => targets[(i + r) % targets.length]);
      for (const m of modes) {
        for (const t of order) {
          const a = acc[t.name][m];
          const total = [];
          const ttfb = [];
          const ttft = [];
          const ticks0 = cpuTicks(t.pid);
          for (let i = 0; i < perRound; i++) {
            const s = await once(clients.get(t.name), t, m);
            if (s.status < 200 || s.status > 299) {
              a.non2xx++;
              continue;
            }
            total.push(s.total);
            ttfb.push(s.ttfb);
            ttft.push(s.ttft);
          }
          const ticks1 = cpuTicks(t.pid);
          if (ticks0 !== null && ticks1 !== null) {
            a.ticks += ticks1 - ticks0;
            a.requests += perRound;
          }
          a.total.push(...total);
          a.ttfb.push(...ttfb);
          if (total.length) {
            a.roundTotal.push(median(total));
            a.roundTtfb.push(median(ttfb));
            a.roundTtft.push(median(ttft));
          }
        }
      }
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close().catch(() => undefined)));
  }
  const out = {};
  for (const t of targets) {
    out[t.name] = {};
    for (const m of modes) {
      const a = acc[t.name][m];
      out[t.name][m] = {
        n: a.total.length,
        non2xx: a.non2xx,
        p50: median(a.roundTotal),
        p99: quantile(a.total, 0.99),
        ttfbP50: median(a.roundTtfb),
        ttfbP99: quantile(a.ttfb, 0.99),
        ttftP50: median(a.roundTtft),
        roundMedians: a.roundTotal,
        cpuUsPerReq: a.requests ? (a.ticks * 1e6) / CLK_TCK / a.requests : null,
      };
    }
  }
  return out;
}
