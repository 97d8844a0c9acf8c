import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { KeyIndexModule } from '../key-index/key-index.module';
import { TagsModule } from '../tags/tags.module';
import { ExpirySweeper } from './indicators/expiry-sweeper';
import { IndicatorUploadService } from './indicators/indicator-upload.service';
import { IndicatorWriter } from './indicators/indicator-writer';
import { IndicatorsController } from './indicators/indicators.controller';
import { IndicatorsRepository } from './indicators/indicators.repository';
import { IndicatorsService } from './indicators/indicators.service';
import { TagAssignmentsController } from './indicators/tag-assignments.controller';
import { SharedSuppliersController } from './shared/shared-suppliers.controller';
import { SharedSuppliersRepository } from './shared/shared-suppliers.repository';
import { SharedSuppliersService } from './shared/shared-suppliers.service';
import { SuppliersController } from './suppliers.controller';
import { SuppliersRepository } from './suppliers.repository';
import { SuppliersService } from './suppliers.service';

/** Suppliers and their indicators (docs/api.md §3), with the expiry sweeper. */
@Module({
  imports: [AuditModule, TagsModule, KeyIndexModule],
  controllers: [
    SuppliersController,
    SharedSuppliersController,
    IndicatorsController,
    TagAssignmentsController,
  ],
  providers: [
    SuppliersRepository,
    SuppliersService,
    SharedSuppliersRepository,
    SharedSuppliersService,
    IndicatorsRepository,
    IndicatorsService,
    IndicatorWriter,
    IndicatorUploadService,
    ExpirySweeper,
  ],
  exports: [SuppliersRepository, IndicatorWriter, ExpirySweeper],
})
export class SuppliersModule {}
