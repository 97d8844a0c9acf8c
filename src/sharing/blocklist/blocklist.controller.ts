import { Controller, Get, Headers, NotAcceptableException, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiHeader,
  ApiNotAcceptableResponse,
  ApiOkResponse,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Auth } from '../../auth/auth.decorator';
import { ErrorBody } from '../../common/errors/error-body.dto';
import { BlocklistQuery } from '../dto/sharing.dto';
import { streamBody } from '../stream-body';
import { BlocklistService } from './blocklist.service';

@ApiTags('Sharing')
@Controller('api/v1/blocklist')
export class BlocklistController {
  constructor(private readonly blocklist: BlocklistService) {}

  /**
   * A plain-text blocklist for firewalls, proxies and EDRs.
   *
   * @remarks One canonical value per line (`text/plain`), sorted, de-duplicated across
   * suppliers: what a firewall's external dynamic list (EDL) or threat-feed connector polls.
   * Only enabled suppliers and unexpired indicators; values the FalsePositive supplier
   * suppresses are left out by the search rules (an FP network removes the addresses and
   * networks inside it, an FP domain its subdomains, an FP URL the URLs under it). Filters:
   * `types`, `suppliers`, `minConfidence` (the indicator's confidence, else its supplier's),
   * `tags` (any of them). Send the `ETag` back in `If-None-Match`: 304 when nothing changed.
   * URLs are listed without scheme, as stored (`evil.com/kit`).
   */
  @Get()
  @Auth('indicators.read')
  @ApiProduces('text/plain')
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'The ETag of a previous answer',
  })
  @ApiOkResponse({
    description: 'The list, streamed',
    headers: { ETag: { description: 'Version of this list', schema: { type: 'string' } } },
    content: {
      'text/plain': { schema: { type: 'string' }, example: '10.0.0.0/8\n198.51.100.7\nevil.com\n' },
    },
  })
  @ApiResponse({ status: 304, description: 'Unchanged since the ETag in If-None-Match' })
  @ApiBadRequestResponse({ description: 'Unknown type, supplier or tag', type: ErrorBody })
  @ApiNotAcceptableResponse({
    description: 'The Accept header excludes text/plain',
    type: ErrorBody,
  })
  async list(
    @Query() query: BlocklistQuery,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    if (!req.accepts('text/plain')) {
      throw new NotAcceptableException(
        'The blocklist responds with text/plain, which the Accept header excludes',
      );
    }
    const answer = await this.blocklist.answer(query, ifNoneMatch);
    res.setHeader('ETag', answer.etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (answer.notModified) {
      res.status(304).end();
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    await streamBody(res, answer.body);
  }
}
