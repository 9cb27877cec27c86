import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { RedisTestEnv } from '../../test/redis-test-env';
import { batchWritesPerTurn } from './redis-write-batching';

const env = new RedisTestEnv();
afterAll(() => env.close());

async function ready(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
}

/** A connected client of the test Redis with its writes batched. */
async function batched(): Promise<Redis> {
  const redis = env.client();
  batchWritesPerTurn(redis);
  await ready(redis);
  return redis;
}

/** Counts what the connection's socket hands the kernel: one `_write` or `_writev` call is one syscall. */
function writesOf(redis: Redis): { writes: number; writevs: number; chunks: number } {
  const socket = redis.stream as Socket & { _write: (...a: unknown[]) => void; _writev: (chunks: unknown[], cb: unknown) => void };
  const seen = { writes: 0, writevs: 0, chunks: 0 };
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (...a: unknown[]) => {
    seen.writes++;
    seen.chunks++;
    write(...a);
  };
  socket._writev = (chunks: unknown[], cb: unknown) => {
    seen.writevs++;
    seen.chunks += chunks.length;
    writev(chunks, cb);
  };
  return seen;
}

/** `n` commands, each from its own setImmediate callback: separate callbacks of one event-loop turn, as separate requests' are. */
function fromSeparateCallbacks(redis: Redis, n: number, key: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => new Promise<string>((resolve, reject) => {
      setImmediate(() => void redis.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", 1, key, String(i + 1)).then((v) => resolve(String(v)), reject));
    })),
  );
}

describe('batchWritesPerTurn', () => {
  it('sends the first command of a turn at once and the rest of the turn\'s in one write, replies in order', async () => {
    const redis = await batched();
    const seen = writesOf(redis);
    const key = `${env.prefix}batched`;
    const replies = await fromSeparateCallbacks(redis, 20, key);
    // Running totals 1, 1+2, ...: each reply is its own command's, in the order they were sent.
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => String(((i + 1) * (i + 2)) / 2)));
    expect(seen).toEqual({ writes: 1, writevs: 1, chunks: 20 });
    // A lone command (the next turn's) is written at once, not held back by the last turn's cork.
    expect(await redis.get(key)).toBe('210');
    expect(seen).toEqual({ writes: 2, writevs: 1, chunks: 21 });
  });

  it('without it, each callback writes on its own (what the batching saves)', async () => {
    const redis = env.client();
    await ready(redis);
    const seen = writesOf(redis);
    await fromSeparateCallbacks(redis, 20, `${env.prefix}plain`);
    expect(seen.writes + seen.writevs).toBeGreaterThanOrEqual(20);
  });

  it('keeps the order of a write and a later read held in the same turn (a settle, then a balance read)', async () => {
    const redis = await batched();
    const seen = writesOf(redis);
    const key = `${env.prefix}order`;
    const read = new Promise<string | null>((resolve, reject) => {
      // The turn's first command goes at once; the write and the read after it are both held.
      setImmediate(() => void redis.ping());
      setImmediate(() => void redis.set(key, 'settled'));
      setImmediate(() => void redis.get(key).then(resolve, reject));
    });
    expect(await read).toBe('settled');
    expect(seen).toEqual({ writes: 1, writevs: 1, chunks: 3 });
  });

  it('keeps pipelines and transactions in order with the commands the turn holds', async () => {
    const redis = await batched();
    const key = `${env.prefix}pipeline`;
    // The second INCR corks the socket: the pipeline and the transaction write into the held buffer.
    const [first, second, piped, multi, last] = await Promise.all([
      redis.incr(key),
      redis.incr(key),
      redis.pipeline().incr(key).incr(key).exec(),
      redis.multi().incr(key).get(key).exec(),
      redis.incr(key),
    ]);
    expect([first, second]).toEqual([1, 2]);
    expect(piped).toEqual([[null, 3], [null, 4]]);
    expect(multi).toEqual([[null, 5], [null, '5']]);
    expect(last).toBe(6);
  });

  it('flushes the held commands when the connection is closed in the same turn', async () => {
    const redis = await batched();
    const key = `${env.prefix}quit`;
    const sent = Promise.all([redis.set(key, '1'), redis.incr(key), redis.quit()]);
    expect(await sent).toEqual(['OK', 2, 'OK']);
    expect(await env.redis.get(key)).toBe('2');
  });

  it('queues commands sent before the connection is ready, and works again after a reconnect', async () => {
    const redis = env.client();
    batchWritesPerTurn(redis);
    const key = `${env.prefix}reconnect`;
    // Not connected yet: ioredis' offline queue takes these.
    expect(redis.status).not.toBe('ready');
    expect(await Promise.all([redis.set(key, '1'), redis.incr(key)])).toEqual(['OK', 2]);
    const before = redis.stream;
    const again = new Promise((resolve) => redis.once('ready', resolve));
    redis.disconnect(true);
    await again;
    expect(redis.stream).not.toBe(before);
    const seen = writesOf(redis);
    expect(await fromSeparateCallbacks(redis, 3, key)).toEqual(['3', '5', '8']);
    expect(seen).toEqual({ writes: 1, writevs: 1, chunks: 3 });
  });
});
