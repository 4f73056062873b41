import { Module } from '@nestjs/common';
import { AlertsService } from './alerts.service';

/** The alert webhook: health-check alerts, and with ALERT_ON_RUN_FAILURE every failed run and missed slot. */
@Module({
  providers: [AlertsService],
  exports: [AlertsService],
})
export class AlertsModule {}
