import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotAcceptableResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { Auth } from '../../auth/auth.decorator';
import { RETRY_AFTER_HEADER } from '../../common/openapi-conventions';
import {
  TAXII_MEDIA_TYPE,
  TaxiiApiRoot,
  TaxiiCollection,
  TaxiiCollections,
  TaxiiDiscovery,
  TaxiiEnvelope,
  TaxiiErrorBody,
  TaxiiManifest,
  TaxiiObjectsQuery,
} from './taxii.dto';
import { TaxiiPage, TaxiiService } from './taxii.service';

const DATE_HEADERS = {
  'X-TAXII-Date-Added-First': {
    description: 'date_added of the first object of the page',
    schema: { type: 'string' },
  },
  'X-TAXII-Date-Added-Last': {
    description: 'date_added of the last object of the page (the next added_after)',
    schema: { type: 'string' },
  },
};

/**
 * TAXII 2.1 (read-only): discovery, one API root, a collection per supplier. Media type
 * `application/taxii+json;version=2.1`; errors in the TAXII error shape.
 */
@ApiTags('TAXII 2.1')
@Controller('taxii2')
@ApiProduces(TAXII_MEDIA_TYPE)
// Listed above @Auth, whose descriptions these extend, so their bodies replace its §1 error
// body: errors on these routes take the TAXII shape.
@ApiUnauthorizedResponse({
  description: 'Body: a TAXII 2.1 error message',
  headers: {
    'WWW-Authenticate': { description: 'Basic realm="indicium"', schema: { type: 'string' } },
  },
  type: TaxiiErrorBody,
})
@ApiForbiddenResponse({ description: 'Body: a TAXII 2.1 error message', type: TaxiiErrorBody })
@ApiTooManyRequestsResponse({
  description: 'Body: a TAXII 2.1 error message',
  headers: RETRY_AFTER_HEADER,
  type: TaxiiErrorBody,
})
@ApiNotAcceptableResponse({
  description: 'Accept excludes application/taxii+json;version=2.1',
  type: TaxiiErrorBody,
})
@Auth('indicators.read')
export class TaxiiController {
  constructor(private readonly taxii: TaxiiService) {}

  /** TAXII server discovery. */
  @Get()
  @ApiOkResponse({ type: TaxiiDiscovery })
  discovery(@Res() res: Response): void {
    send(res, { body: this.taxii.discovery() });
  }

  /** The API root. */
  @Get('api')
  @ApiOkResponse({ type: TaxiiApiRoot })
  apiRoot(@Res() res: Response): void {
    send(res, { body: this.taxii.apiRoot() });
  }

  /** The collections: one per supplier (`id` = supplier id). */
  @Get('api/collections')
  @ApiOkResponse({ type: TaxiiCollections })
  async collections(@Res() res: Response): Promise<void> {
    send(res, { body: { collections: await this.taxii.collections() } });
  }

  /** One collection. */
  @Get('api/collections/:collectionId')
  @ApiOkResponse({ type: TaxiiCollection })
  @ApiNotFoundResponse({ description: 'No such collection', type: TaxiiErrorBody })
  async collection(@Param('collectionId') id: string, @Res() res: Response): Promise<void> {
    send(res, { body: await this.taxii.collection(id) });
  }

  /**
   * A page of the collection's objects.
   *
   * @remarks STIX 2.1 indicators, oldest addition first; removed indicators come as a revoked
   * version for 30 days. An expired indicator not yet purged keeps its version, with
   * `valid_until` in the past (revocation is final in STIX; a re-upload revives an expired
   * indicator); once purged it is revoked. Page with `next`; poll for changes with
   * `added_after` = the last page's `X-TAXII-Date-Added-Last`. Pages stop before writes still
   * in progress, so a long upload appears when it commits, never behind a poller's cursor.
   * Filters `match[type]` (only `indicator` exists) and `match[id]`.
   */
  @Get('api/collections/:collectionId/objects')
  @ApiOkResponse({ type: TaxiiEnvelope, headers: DATE_HEADERS })
  @ApiBadRequestResponse({ description: 'Invalid filter or next', type: TaxiiErrorBody })
  @ApiNotFoundResponse({ description: 'No such collection', type: TaxiiErrorBody })
  async objects(
    @Param('collectionId') id: string,
    @Query() query: TaxiiObjectsQuery,
    @Res() res: Response,
  ): Promise<void> {
    send(res, await this.taxii.objects(id, query));
  }

  /** One object by STIX id: its current version (revoked when the indicator was removed). */
  @Get('api/collections/:collectionId/objects/:objectId')
  @ApiOkResponse({ type: TaxiiEnvelope, headers: DATE_HEADERS })
  @ApiBadRequestResponse({ description: 'Invalid filter or next', type: TaxiiErrorBody })
  @ApiNotFoundResponse({ description: 'No such collection or object', type: TaxiiErrorBody })
  async object(
    @Param('collectionId') id: string,
    @Param('objectId') objectId: string,
    @Query() query: TaxiiObjectsQuery,
    @Res() res: Response,
  ): Promise<void> {
    send(res, await this.taxii.object(id, objectId, query));
  }

  /** The manifest: id, date_added and version of each object, paged like the objects. */
  @Get('api/collections/:collectionId/manifest')
  @ApiOkResponse({ type: TaxiiManifest, headers: DATE_HEADERS })
  @ApiBadRequestResponse({ description: 'Invalid filter or next', type: TaxiiErrorBody })
  @ApiNotFoundResponse({ description: 'No such collection', type: TaxiiErrorBody })
  async manifest(
    @Param('collectionId') id: string,
    @Query() query: TaxiiObjectsQuery,
    @Res() res: Response,
  ): Promise<void> {
    send(res, await this.taxii.manifest(id, query));
  }
}

/**
 * Sends a TAXII body with the media type exactly as TAXII 2.1 names it (Express's res.json would
 * rewrite it, adding a charset parameter).
 */
function send(res: Response, page: TaxiiPage<object>): void {
  res.status(200).setHeader('Content-Type', TAXII_MEDIA_TYPE);
  if (page.first) res.setHeader('X-TAXII-Date-Added-First', page.first);
  if (page.last) res.setHeader('X-TAXII-Date-Added-Last', page.last);
  res.end(Buffer.from(JSON.stringify(page.body)));
}
