import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@gw/core';
import { createRedis } from './redis.module';

describe('a Redis on a Unix socket (REDIS_URL=unix:///...)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-redis-sock-'));
  const socket = join(dir, 'redis.sock');
  let server: ChildProcess;

  beforeAll(async () => {
    // TCP off (--port 0): only the socket can reach this server.
    server = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    server.once('error', (e) => {
      throw new Error(`redis-server could not start (it must be on the PATH, as it is on the machines the tests run on): ${e.message}`);
    });
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
    expect(existsSync(socket)).toBe(true);
  });

  afterAll(async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the gateway connection, scripts included, in the database the URL names', async () => {
    const redis = createRedis(loadConfig({ REDIS_URL: `unix://${socket}?db=4` }), 'gw-test');
    try {
      expect(await redis.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, 'k', 5)).toBe(5);
      const info = String(await redis.client('INFO'));
      expect(info).toMatch(/ db=4 /);
      expect(info).toMatch(/ name=gw-test /);
      // The client really is on the socket: flag U, and the socket's path as its address.
      expect(info).toMatch(/ flags=U /);
      expect(info).toContain(` laddr=${socket}:0 `);
    } finally {
      redis.disconnect();
    }
  });
});
