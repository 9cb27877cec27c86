import type { Redis } from 'ioredis';
import type { Writable } from 'node:stream';

/**
 * Commands a process issues during one turn of the event loop leave in one socket write.
 *
 * Under load, the requests of one poll phase each send their script from their own I/O callback:
 * a write per command, and each write to a loopback socket costs its writer the receiving side's
 * TCP work and Redis's wake-up (about as much CPU as the rest of a request's Redis handling; see
 * the README's Performance section). Here the first command of a turn corks the connection's
 * socket and the check phase of the same turn (setImmediate) uncorks it: one writev for all of
 * them. Order on the connection is unchanged (the socket buffers in order), so a settle sent
 * before a later read is still read after it; a command waits at most for the rest of its turn.
 * ioredis's own auto-pipelining batches only the commands of one callback (process.nextTick).
 *
 * Only for a command connection: a subscriber or a blocking connection gains nothing.
 */
export function batchWritesPerTurn(redis: Redis): void {
  const corked = new Set<Writable>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const socket of corked) socket.uncork();
    corked.clear();
  };
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command, stream) => {
    // Before 'ready' ioredis queues the command itself (offline queue) and writes nothing here; a
    // pipeline passes its own buffer as `stream` and later writes it to the socket in one go.
    const socket = redis.stream as Writable | undefined;
    if (stream === undefined && redis.status === 'ready' && socket && !corked.has(socket)) {
      socket.cork();
      corked.add(socket);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    }
    return send(command, stream);
  };
}
