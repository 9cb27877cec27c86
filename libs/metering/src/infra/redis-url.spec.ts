import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@gw/core';
import { redisConnectionOf } from './redis-url';
import { createRedis } from './redis.module';

describe('redisConnectionOf (REDIS_URL)', () => {
  it('reads host, port, credentials, database and TLS from redis:// and rediss://', () => {
    expect(redisConnectionOf('redis://127.0.0.1:6390')).toEqual({ host: '127.0.0.1', port: 6390, username: undefined, password: undefined, db: 0, tls: undefined });
    expect(redisConnectionOf('rediss://user:p%40ss@cache.internal/3')).toEqual({ host: 'cache.internal', port: 6379, username: 'user', password: 'p@ss', db: 3, tls: {} });
    expect(redisConnectionOf('redis://:secret@[::1]:7000/0')).toMatchObject({ host: '::1', port: 7000, password: 'secret', db: 0 });
  });

  it('reads a Unix socket path, with database and credentials as query parameters', () => {
    expect(redisConnectionOf('unix:///var/run/redis/redis.sock')).toEqual({ path: '/var/run/redis/redis.sock', username: undefined, password: undefined, db: 0 });
    expect(redisConnectionOf('unix:///tmp/r%20x.sock?db=2&password=s3cret&username=gw')).toEqual({ path: '/tmp/r x.sock', username: 'gw', password: 's3cret', db: 2 });
  });

  it.each([
    ['unix://relative.sock', 'unix:///absolute/path'],
    ['unix:///', 'unix:///absolute/path'],
    ['redis://host/x', 'database must be a non-negative integer'],
    ['unix:///tmp/r.sock?db=-1', 'database must be a non-negative integer'],
    ['http://host:6379', 'unsupported scheme'],
  ])('refuses %s', (url, problem) => {
    expect(() => redisConnectionOf(url)).toThrow(problem);
  });

  it('is what the configuration accepts', () => {
    expect(loadConfig({ REDIS_URL: 'unix:///run/redis.sock' }).REDIS_URL).toBe('unix:///run/redis.sock');
    expect(() => loadConfig({ REDIS_URL: 'unix:/run/redis.sock' })).toThrow('REDIS_URL');
    expect(() => loadConfig({ REDIS_URL: '127.0.0.1:6379' })).toThrow('REDIS_URL');
  });
});

describe('a Redis on a Unix socket', () => {
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
      const info = await redis.client('INFO');
      expect(String(info)).toMatch(/ db=4 /);
      expect(String(info)).toMatch(/ name=gw-test /);
      // The client really is on the socket: flag U, and the socket's path as its address.
      expect(String(info)).toMatch(/ flags=U /);
      expect(String(info)).toContain(` laddr=${socket}:0 `);
    } finally {
      redis.disconnect();
    }
  });
});
