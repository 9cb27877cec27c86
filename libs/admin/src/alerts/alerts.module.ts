import { Module } from '@nestjs/common';
import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';

/** Alert rules (/api/alerts); evaluated and delivered by the observability worker (@gw/observability/worker). */
@Module({ controllers: [AlertsController], providers: [AlertsService] })
export class AlertsModule {}
