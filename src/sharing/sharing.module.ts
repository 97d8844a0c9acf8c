import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { BlocklistController } from './blocklist/blocklist.controller';
import { BlocklistService } from './blocklist/blocklist.service';
import { ExportController } from './export/export.controller';
import { ExportService } from './export/export.service';
import { TagsModule } from '../tags/tags.module';
import { CopyOut } from './copy-out';
import { SharingRepository } from './sharing.repository';
import { TaxiiAcceptMiddleware } from './taxii/taxii-accept.middleware';
import { TaxiiController } from './taxii/taxii.controller';
import { TaxiiService } from './taxii/taxii.service';
import { SharingSweeper } from './tombstones/sharing-sweeper';

/** Sharing indicators out (docs/api.md §10): exports, the blocklist, the TAXII 2.1 server. */
@Module({
  imports: [TagsModule],
  controllers: [ExportController, BlocklistController, TaxiiController],
  providers: [
    SharingRepository,
    CopyOut,
    ExportService,
    BlocklistService,
    TaxiiService,
    SharingSweeper,
  ],
})
export class SharingModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(TaxiiAcceptMiddleware).forRoutes('taxii2', 'taxii2/*path');
  }
}
