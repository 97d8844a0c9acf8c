import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuditCtx, type AuditContext } from '../../audit/audit-context';
import { Auth } from '../../auth/auth.decorator';
import { ErrorBody } from '../../common/errors/error-body.dto';
import { TagAssignmentDto, TagAssignmentResultDto } from './dto/tag-assignment.dto';
import { IndicatorWriter } from './indicator-writer';

/**
 * Assigning a tag to indicators (docs/api.md §4). Under the tags path, but it changes
 * indicators, so it goes through their writer.
 */
@ApiTags('Tags')
@Controller('api/v1/tags')
@ApiBadRequestResponse({ type: ErrorBody })
export class TagAssignmentsController {
  constructor(private readonly writer: IndicatorWriter) {}

  /** Tag a supplier's indicators, named by value (normalised, type detected). */
  @Post(':name/indicators')
  @Auth('tags.write')
  @HttpCode(200)
  @ApiOkResponse({ type: TagAssignmentResultDto })
  @ApiNotFoundResponse({ description: 'No such tag or supplier', type: ErrorBody })
  assign(
    @Param('name') name: string,
    @Body() dto: TagAssignmentDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<TagAssignmentResultDto> {
    return this.writer.changeTag(name, dto.supplier, dto.indicators, true, ctx);
  }

  /** Remove the tag from a supplier's indicators, named by value. */
  @Delete(':name/indicators')
  @Auth('tags.write')
  @ApiOkResponse({ type: TagAssignmentResultDto })
  @ApiNotFoundResponse({ description: 'No such tag or supplier', type: ErrorBody })
  unassign(
    @Param('name') name: string,
    @Body() dto: TagAssignmentDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<TagAssignmentResultDto> {
    return this.writer.changeTag(name, dto.supplier, dto.indicators, false, ctx);
  }
}
