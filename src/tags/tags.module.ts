import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { TagsController } from './tags.controller';
import { TagsRepository } from './tags.repository';
import { TagsService } from './tags.service';

/**
 * Tags (docs/api.md §4): the one owner of the `tags` table. Other modules use the exported
 * TagsRepository (lookups by name, the assignment lock) and `tag-sql.ts`; assigning a tag to
 * indicators changes indicators, so it lives with them (suppliers module, IndicatorWriter).
 */
@Module({
  imports: [AuditModule],
  controllers: [TagsController],
  providers: [TagsRepository, TagsService],
  exports: [TagsRepository],
})
export class TagsModule {}
