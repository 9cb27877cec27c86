import { Module } from '@nestjs/common';
import { LogsController } from './logs.controller';
import { LogsService } from './logs.service';

/** Request logs (/api/logs), written by the billing worker's usage drain. */
@Module({ controllers: [LogsController], providers: [LogsService] })
export class LogsModule {}
