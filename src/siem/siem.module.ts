import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DetectionsModule } from '../detections/detections.module';
import { SiemDeliveryWorker } from './siem-delivery.worker';
import { SiemIntegrationsController } from './siem-integrations.controller';
import { SiemIntegrationsRepository } from './siem-integrations.repository';
import { SiemIntegrationsService } from './siem-integrations.service';

@Module({
  imports: [AuditModule, DetectionsModule],
  controllers: [SiemIntegrationsController],
  providers: [SiemIntegrationsRepository, SiemIntegrationsService, SiemDeliveryWorker],
})
export class SiemModule {}
