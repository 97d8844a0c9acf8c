import { Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth } from '../auth/auth.decorator';
import type { IndiciumRequest } from '../auth/principal';
import { ErrorBody } from '../common/errors/error-body.dto';
import {
  DEFAULT_MATCHES_LIMIT,
  SearchQueryDto,
  SearchRequestDto,
  SearchResponseDto,
  SearchResultDto,
} from './dto/search.dto';
import { SearchQueryPipe } from './search-query.pipe';
import { SearchRequestPipe } from './search-request.pipe';
import { writeSearchResponse } from './search-response';
import { SearchService } from './search.service';

@ApiTags('Search')
@Controller('api/v1/search')
@Auth('search')
@ApiBadRequestResponse({ type: ErrorBody })
export class SearchController {
  constructor(private readonly search: SearchService) {}

  /**
   * Look up one value: is it known-bad, who says so, and why?
   *
   * @remarks The type is detected. Matching covers exact values, IPs in CIDRs, networks
   * (containing and within), parent domains, URL prefixes at `/` or `?`, URL and email hosts;
   * FalsePositive suppresses.
   */
  @Get()
  async one(
    @Query(SearchQueryPipe) q: SearchQueryDto,
    @Req() req: IndiciumRequest,
  ): Promise<SearchResultDto> {
    const [result] = await this.search.search(
      [q.value],
      q.matchesLimit ?? DEFAULT_MATCHES_LIMIT,
      'single',
      req.principal,
    );
    return result;
  }

  /**
   * Bulk lookup of up to 100,000 values (body up to 64 MiB), one result per value, in order.
   *
   * @remarks Takes from the work budget (WORK_BUDGET_MB) while it runs; beyond it the request
   * waits, and gets 429 with Retry-After when the queue is full or the wait too long.
   */
  @Post()
  @HttpCode(200)
  @ApiOkResponse({ type: SearchResponseDto })
  @ApiPayloadTooLargeResponse({ type: ErrorBody })
  async many(
    @Body(SearchRequestPipe) body: SearchRequestDto,
    @Req() req: IndiciumRequest,
    @Res() res: Response,
  ): Promise<void> {
    const results = await this.search.search(
      body.values,
      body.matchesLimit ?? DEFAULT_MATCHES_LIMIT,
      'bulk',
      req.principal,
    );
    await writeSearchResponse(res, results);
  }
}
