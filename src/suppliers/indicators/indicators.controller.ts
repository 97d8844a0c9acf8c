import { Body, Controller, Delete, Get, Param, Put, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditCtx, type AuditContext } from '../../audit/audit-context';
import { Auth } from '../../auth/auth.decorator';
import type { IndiciumRequest } from '../../auth/principal';
import { ErrorBody } from '../../common/errors/error-body.dto';
import {
  DeleteEntryDto,
  DeleteResultDto,
  IndicatorListQuery,
  IndicatorPageDto,
  UploadEntryDto,
  UploadResultDto,
} from './dto/indicator.dto';
import { IndicatorUploadService, uploadFormatOf } from './indicator-upload.service';
import { IndicatorsService } from './indicators.service';

@ApiTags('Indicators')
@Controller('api/v1/suppliers/:name/indicators')
@ApiBadRequestResponse({ type: ErrorBody })
@ApiNotFoundResponse({ description: 'No such supplier', type: ErrorBody })
export class IndicatorsController {
  constructor(
    private readonly uploads: IndicatorUploadService,
    private readonly indicators: IndicatorsService,
  ) {}

  /**
   * Upsert indicators from a JSON array or NDJSON, streamed.
   *
   * @remarks A JSON array, or NDJSON (one object per line), up to 128 MiB and a million
   * entries. Identity is (supplier, type, canonical value); the last entry of a key in one body
   * wins. All applied entries commit atomically. 200 when every entry was applied; 202 when
   * some failed (`failed` lists them); 400 when the body is malformed or no entry is valid
   * (nothing applied).
   */
  @Put()
  @Auth('indicators.write')
  @ApiConsumes('application/json', 'application/x-ndjson')
  @ApiBody({ type: [UploadEntryDto] })
  @ApiOkResponse({ description: 'Every entry applied', type: UploadResultDto })
  @ApiAcceptedResponse({
    description: 'Some entries failed; the rest applied',
    type: UploadResultDto,
  })
  @ApiPayloadTooLargeResponse({
    description: 'Body above 128 MiB; nothing applied',
    type: ErrorBody,
  })
  @ApiUnsupportedMediaTypeResponse({ type: ErrorBody })
  async upload(
    @Param('name') name: string,
    @Req() req: IndiciumRequest,
    @Res({ passthrough: true }) res: Response,
    @AuditCtx() ctx: AuditContext,
  ): Promise<UploadResultDto> {
    const length = req.headers['content-length'];
    try {
      const outcome = await this.uploads.upload(
        name,
        req,
        uploadFormatOf(req.headers['content-type']),
        length !== undefined ? Number(length) : undefined,
        ctx,
      );
      res.status(outcome.status);
      return outcome.body;
    } catch (e) {
      // The rest of the body is not read: close the connection after the error response.
      if (!req.complete) res.setHeader('Connection', 'close');
      throw e;
    }
  }

  /**
   * A page of the supplier's indicators.
   *
   * @remarks Keyset pagination on id. Expired indicators are hidden until purged unless
   * `includeExpired=true`.
   */
  @Get()
  @Auth('indicators.read')
  list(@Param('name') name: string, @Query() query: IndicatorListQuery): Promise<IndicatorPageDto> {
    return this.indicators.list(name, query);
  }

  /**
   * Delete indicators by value (normalised; type detected unless given).
   *
   * @remarks Values that are not indicators of the supplier come back in `notFound`.
   */
  @Delete()
  @Auth('indicators.write')
  @ApiBody({ type: [DeleteEntryDto] })
  @ApiOkResponse({ type: DeleteResultDto })
  delete(
    @Param('name') name: string,
    @Body() body: unknown,
    @AuditCtx() ctx: AuditContext,
  ): Promise<DeleteResultDto> {
    return this.indicators.delete(name, body, ctx);
  }
}
