import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuditCtx, type AuditContext } from '../audit/audit-context';
import { Auth } from '../auth/auth.decorator';
import { ErrorBody } from '../common/errors/error-body.dto';
import { PageQuery } from '../common/pagination';
import { CreateTagDto, TagDto, TagPageDto, UpdateTagDto } from './dto/tag.dto';
import { TagsService } from './tags.service';

@ApiTags('Tags')
@Controller('api/v1/tags')
@ApiBadRequestResponse({ type: ErrorBody })
export class TagsController {
  constructor(private readonly tags: TagsService) {}

  /** List tags ordered by name, with how many indicators carry each. */
  @Get()
  @Auth('tags.read')
  list(@Query() query: PageQuery): Promise<TagPageDto> {
    return this.tags.list(query.limit, query.cursor);
  }

  /** Create a tag; its name is stored uppercase. */
  @Post()
  @Auth('tags.write')
  @ApiConflictResponse({ description: 'Name taken (case-insensitively)', type: ErrorBody })
  create(@Body() dto: CreateTagDto, @AuditCtx() ctx: AuditContext): Promise<TagDto> {
    return this.tags.create(dto, ctx);
  }

  /** One tag; the name matches case-insensitively. */
  @Get(':name')
  @Auth('tags.read')
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param('name') name: string): Promise<TagDto> {
    return this.tags.get(name);
  }

  /**
   * Change (or rename) a tag.
   *
   * @remarks Send only the fields to change: a field that is absent or `null` keeps its
   * value, except `color: null`, which removes the color.
   */
  @Patch(':name')
  @Auth('tags.write')
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ description: 'New name taken', type: ErrorBody })
  update(
    @Param('name') name: string,
    @Body() dto: UpdateTagDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<TagDto> {
    return this.tags.update(name, dto, ctx);
  }

  /** Delete a tag and every assignment of it. */
  @Delete(':name')
  @Auth('tags.write')
  @HttpCode(204)
  @ApiNotFoundResponse({ type: ErrorBody })
  delete(@Param('name') name: string, @AuditCtx() ctx: AuditContext): Promise<void> {
    return this.tags.delete(name, ctx);
  }
}
