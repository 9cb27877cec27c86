import type { Redis } from 'ioredis';
import type { Writable } from 'node:stream';

/**
 * Under load, the commands a process issues during one turn of the event loop leave in two socket
 * writes instead of one each.
 *
 * The requests of one poll phase each send their script from their own I/O callback: a write per
 * command, and each write to a loopback socket costs its writer the receiving side's TCP work and
 * Redis's wake-up (about as much CPU as the rest of a request's Redis handling; see the README's
 * Performance section). The first command of a turn is written at once (alone, as at one
 * connection, it waits for nothing); a second one in the same turn corks the socket, and the
 * turn's check phase (setImmediate) uncorks it: one writev for all but the first. Order on the
 * connection is unchanged (the socket buffers in order), so a settle sent before a later read is
 * still read after it; a command waits at most for the rest of its turn. ioredis's own
 * auto-pipelining batches only the commands of one callback (process.nextTick), and delays the
 * lone command too.
 *
 * Only for a command connection: a subscriber or a blocking connection gains nothing.
 */
export function batchWritesPerTurn(redis: Redis): void {
  /** Commands written in this turn so far: 0, 1 (the first went at once), or more (corked). */
  let sent = 0;
  let corked: Writable | undefined;
  const endTurn = () => {
    sent = 0;
    const socket = corked;
    corked = undefined;
    socket?.uncork();
  };
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command, stream) => {
    // Before 'ready' ioredis queues the command itself (offline queue) and writes nothing here; a
    // pipeline passes its own buffer as `stream` and later writes it to the socket in one go.
    const socket = redis.stream as Writable | undefined;
    if (stream === undefined && redis.status === 'ready' && socket) {
      if (sent === 0) setImmediate(endTurn);
      else if (corked === undefined) {
        socket.cork();
        corked = socket;
      }
      sent++;
    }
    return send(command, stream);
  };
}
