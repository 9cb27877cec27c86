import type { Logger, OnModuleDestroy } from '@nestjs/common';
import { WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { throttledLog } from '@gw/core';

/**
 * A BullMQ processor that dispatches by job name and stops taking jobs before the app's
 * connections close: @nestjs/bullmq closes workers at onApplicationShutdown, after every
 * onModuleDestroy, so Postgres and Redis would be gone under a running job (which then hangs
 * shutdown or reopens a pool). Closing here lets the running job finish first.
 */
export abstract class JobHost<Name extends string> extends WorkerHost implements OnModuleDestroy {
  private readonly running = new Set<string>();
  private errorLog?: (message: string) => void;
  /** One per job name; set by the subclass's constructor. */
  protected abstract readonly handlers: Record<Name, (job: Job) => Promise<unknown>>;

  /**
   * @param queue   named in the error for a job without a handler
   * @param oneAtATime names never run twice at once in this process (a second copy would only
   *   repeat the first's work, or read the same pending entries again)
   */
  protected constructor(
    private readonly queue: string,
    private readonly oneAtATime: ReadonlySet<string> = new Set(),
  ) {
    super();
  }

  /**
   * For the subclass's `@OnWorkerEvent('error')` (unheard, a worker's error ends the process):
   * while Redis is away the worker reports one per reconnection attempt, logged at most every 10 s.
   */
  protected workerError(logger: Logger, label: string, err: Error): void {
    this.errorLog ??= throttledLog((m) => logger.error(m));
    this.errorLog(`${label}: ${err.message}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker.close();
  }

  async process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as Name];
    if (!handler) throw new Error(`no handler for ${this.queue} job ${job.name}`);
    if (!this.oneAtATime.has(job.name)) return handler(job);
    if (this.running.has(job.name)) return 'skipped: already running';
    this.running.add(job.name);
    try {
      return await handler(job);
    } finally {
      this.running.delete(job.name);
    }
  }
}
