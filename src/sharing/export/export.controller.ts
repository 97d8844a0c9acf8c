import { Controller, Get, NotAcceptableException, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotAcceptableResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProduces,
  ApiResponseOptions,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Auth } from '../../auth/auth.decorator';
import { ErrorBody } from '../../common/errors/error-body.dto';
import { EXPORT_SHARE, WorkBudget } from '../../common/work-budget';
import { ExportQuery } from '../dto/sharing.dto';
import { streamBody } from '../stream-body';
import { ExportService } from './export.service';

/** The 200 response as OpenAPI shows it: headers and an example per format. */
const EXPORT_RESPONSE: ApiResponseOptions = {
  description: 'The export, streamed',
  headers: {
    'Content-Disposition': {
      description: 'attachment; filename="<supplier>-indicators.<ext>"',
      schema: { type: 'string' },
    },
  },
  content: {
    'application/x-ndjson': {
      schema: { type: 'string' },
      example:
        '{"id":"0195…","indicator":"evil.com","type":"domain","context":{"threat":"phishing"},"tags":[{"name":"PHISHING","weight":4}],"confidence":80,"firstSeen":null,"lastSeen":null,"expiresAt":null,"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z","hits":3,"lastHitAt":"2026-01-02T00:00:00.000Z"}\n',
    },
    'text/csv': {
      schema: { type: 'string' },
      example:
        'id,indicator,type,context,tags,confidence,firstSeen,lastSeen,expiresAt,createdAt,updatedAt,hits,lastHitAt\r\n0195…,evil.com,domain,"{""threat"": ""phishing""}",PHISHING,80,,,,2026-01-01T00:00:00.000Z,2026-01-01T00:00:00.000Z,3,2026-01-02T00:00:00.000Z\r\n',
    },
    'application/stix+json;version=2.1': {
      schema: { type: 'object' },
      example: {
        type: 'bundle',
        id: 'bundle--6f7c3b1e-7d2a-4a8e-9c1e-2f4b5a6c7d8e',
        objects: [
          {
            type: 'indicator',
            spec_version: '2.1',
            id: 'indicator--8e2e2d2b-17d4-5a8c-9b6e-3c6f0b2a1d4e',
            created: '2026-01-01T00:00:00.000Z',
            modified: '2026-01-01T00:00:00.000Z',
            name: 'evil.com',
            pattern: "[domain-name:value = 'evil.com']",
            pattern_type: 'stix',
            pattern_version: '2.1',
            valid_from: '2026-01-01T00:00:00.000Z',
            confidence: 80,
            labels: ['PHISHING'],
            x_indicium_hits: 3,
            x_indicium_last_hit_at: '2026-01-02T00:00:00.000Z',
          },
        ],
      },
    },
  },
};

@ApiTags('Sharing')
@Controller('api/v1/suppliers/:name/indicators/export')
export class ExportController {
  constructor(
    private readonly exports: ExportService,
    private readonly budget: WorkBudget,
  ) {}

  /**
   * Export a supplier's indicators, streamed.
   *
   * @remarks Every unexpired indicator of the supplier, streamed in constant memory as it is
   * read, as an attachment (`Content-Disposition`). `ndjson`: one object per line, the fields
   * of the indicator list, `hits` and `lastHitAt` included. `csv`: RFC 4180 with a header row
   * (`id,indicator,type,context,tags,confidence,firstSeen,lastSeen,expiresAt,createdAt,
   * updatedAt,hits,lastHitAt`), `context` as JSON, `tags` as space-separated names. `stix21`: a
   * STIX 2.1 bundle of `indicator` objects (the objects the TAXII server publishes) with the
   * custom properties `x_indicium_hits` and, once hit, `x_indicium_last_hit_at`. On a Postgres
   * server one snapshot; on the embedded database not: indicators written while a long export
   * runs may or may not be in it.
   */
  @Get()
  @Auth('indicators.read')
  @ApiProduces('application/x-ndjson', 'text/csv', 'application/stix+json;version=2.1')
  @ApiOkResponse(EXPORT_RESPONSE)
  @ApiBadRequestResponse({ description: 'Unknown format', type: ErrorBody })
  @ApiNotFoundResponse({ description: 'No such supplier', type: ErrorBody })
  @ApiNotAcceptableResponse({
    description: 'The Accept header excludes the format',
    type: ErrorBody,
  })
  async export(
    @Param('name') name: string,
    @Query() query: ExportQuery,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const out = await this.exports.prepare(name, query.format ?? 'ndjson');
    const bare = out.mediaType.split(';', 1)[0];
    if (!req.accepts(bare)) {
      throw new NotAcceptableException(
        `This export responds with ${bare}, which the Accept header excludes`,
      );
    }
    // Streamed in bounded batches: a fixed share while it runs (docs/api.md §8, work budget).
    await this.budget.take(EXPORT_SHARE, res);
    res.status(200);
    res.setHeader('Content-Type', out.mediaType);
    res.setHeader('Content-Disposition', `attachment; filename="${out.fileName}"`);
    res.setHeader('Cache-Control', 'no-store');
    await streamBody(res, out.body);
  }
}
