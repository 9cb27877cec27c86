import { Inject, Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { OBSERVABILITY_QUEUE, ObservabilityJob, type ObservabilityJobName } from './observability-jobs';

/** The recurring jobs as BullMQ job schedulers, upserted by id: N workers share one schedule. */
@Injectable()
export class ObservabilitySchedule {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(OBSERVABILITY_QUEUE) private readonly queue: Queue,
  ) {}

  async ensure(): Promise<void> {
    const every: Array<[id: string, ms: number, name: ObservabilityJobName]> = [
      ['retention', this.config.RETENTION_INTERVAL_MS, ObservabilityJob.Retention],
      ['alerts-evaluate', this.config.ALERT_EVAL_INTERVAL_MS, ObservabilityJob.EvaluateAlerts],
    ];
    for (const [id, ms, name] of every) {
      await this.queue.upsertJobScheduler(id, { every: ms }, { name, opts: { removeOnComplete: true, removeOnFail: 100 } });
    }
  }
}
