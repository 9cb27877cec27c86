// EXPERIMENT (runs on its own): what one script call costs the calling Node process over loopback
// TCP and over a Unix socket, against one private redis-server listening on both.
//   node bench/experiments/redis-unix-socket.cjs
// Prints, per transport, the caller's CPU per EVALSHA at 50 in flight (user + system, and system
// alone: the kernel's share, where the two transports differ) and the c=1 round trip, in
// interleaved rounds; then the medians and their ratio. Needs redis-server on the PATH.
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const net = require('node:net');
const { Redis } = require('ioredis');

const ROUNDS = Number(process.env.ROUNDS || 5);
const N = Number(process.env.CALLS || 60000);
const C = 50;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function measure(opts) {
  const r = new Redis(opts);
  // The shape of the gateway's calls: a script, a few keys, a dozen arguments, a short array back.
  const sha = await r.script('LOAD', "redis.call('HINCRBY', KEYS[1], 'n', 1); return {'ok', ARGV[1], ARGV[2]}");
  const args = ['3', 'exp:a', 'exp:b', 'exp:c', ...Array.from({ length: 12 }, (_, i) => `argument-${i}`)];
  for (let i = 0; i < 2000; i++) await r.evalsha(sha, ...args);
  let left = N;
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: C }, async () => {
    while (left-- > 0) await r.evalsha(sha, ...args);
  }));
  const cpu = process.cpuUsage(cpu0);
  const lat = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await r.evalsha(sha, ...args);
    lat.push(performance.now() - t);
  }
  r.disconnect();
  return { cpu: (cpu.user + cpu.system) / N, sys: cpu.system / N, c1: median(lat) };
}

(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-exp-sock-'));
  const socket = join(dir, 'redis.sock');
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
    const seen = { tcp: [], unix: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, opts] of [['tcp', { host: '127.0.0.1', port }], ['unix', { path: socket }]]) {
        const m = await measure(opts);
        seen[name].push(m);
        console.log(`round ${round} ${name.padEnd(4)} CPU ${m.cpu.toFixed(2)} µs/call (system ${m.sys.toFixed(2)})  c=1 round trip p50 ${m.c1.toFixed(3)} ms`);
      }
    }
    const med = (name, f) => median(seen[name].map((m) => m[f]));
    for (const [f, label, unit, digits] of [['cpu', 'CPU per call at c=50', 'µs', 2], ['sys', '  of which system', 'µs', 2], ['c1', 'c=1 round trip p50', 'ms', 3]]) {
      console.log(`${label.padEnd(22)} tcp ${med('tcp', f).toFixed(digits)} ${unit}  unix ${med('unix', f).toFixed(digits)} ${unit}  unix/tcp ${(med('unix', f) / med('tcp', f)).toFixed(2)}×`);
    }
  } finally {
    server.kill('SIGTERM');
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  }
})();
