import { Module } from '@nestjs/common';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';

/** Spend analytics over request logs (/api/usage). */
@Module({ controllers: [UsageController], providers: [UsageService] })
export class UsageModule {}
