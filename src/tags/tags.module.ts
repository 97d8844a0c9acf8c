import { Module } from '@nestjs/common';
import { SuppliersModule } from '../suppliers/suppliers.module';
import { TagsController } from './tags.controller';
import { TagsRepository } from './tags.repository';
import { TagsService } from './tags.service';

/** Tags and their assignment to indicators (docs/api.md §4). */
@Module({
  imports: [SuppliersModule],
  controllers: [TagsController],
  providers: [TagsRepository, TagsService],
  exports: [TagsRepository],
})
export class TagsModule {}
