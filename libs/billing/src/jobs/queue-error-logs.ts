import { Logger, type Provider } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { throttledLog } from '@gw/core';

/**
 * Error listeners for a module's BullMQ queues: a queue's own Redis connection reports each failed
 * reconnection, and without a listener BullMQ prints every one as a stack trace (about two a
 * second while Redis is away). Logged at most every 10 s per queue instead.
 */
export function queueErrorLogs(token: string, ...names: string[]): Provider {
  return {
    provide: token,
    inject: names.map((n) => getQueueToken(n)),
    useFactory: (...queues: Queue[]) => {
      const logger = new Logger('queues');
      for (const q of queues) {
        const log = throttledLog((m) => logger.warn(m));
        q.on('error', (e: Error) => log(`queue ${q.name}: ${e.message}`));
      }
      return queues.length;
    },
  };
}
