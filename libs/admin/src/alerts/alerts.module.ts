import { Module } from '@nestjs/common';
import { SECRET_BOX_PROVIDER } from '@gw/core';
import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';

/** Alert rules (/api/alerts); evaluated and delivered by the observability worker (@gw/observability/worker). */
@Module({ controllers: [AlertsController], providers: [SECRET_BOX_PROVIDER, AlertsService] })
export class AlertsModule {}
