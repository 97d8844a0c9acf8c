import { Module } from '@nestjs/common';
import { SiemDeliveryWorker } from './siem-delivery.worker';
import { SiemIntegrationsController } from './siem-integrations.controller';
import { SiemIntegrationsRepository } from './siem-integrations.repository';
import { SiemIntegrationsService } from './siem-integrations.service';

@Module({
  controllers: [SiemIntegrationsController],
  providers: [SiemIntegrationsRepository, SiemIntegrationsService, SiemDeliveryWorker],
})
export class SiemModule {}
