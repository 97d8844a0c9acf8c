import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuditCtx, type AuditContext } from '../audit/audit-context';
import { Auth } from '../auth/auth.decorator';
import { ErrorBody } from '../common/errors/error-body.dto';
import { PageQuery } from '../common/pagination';
import {
  FeedDto,
  FeedPageDto,
  FeedRunPageDto,
  FeedRunQueuedDto,
  PUT_FEED_EXAMPLES,
  PutFeedDto,
} from './dto/feed.dto';
import { FeedScheduler } from './feed-scheduler';
import { FeedsService } from './feeds.service';

@ApiTags('Feeds')
@Controller('api/v1/suppliers/:name/feed')
@ApiBadRequestResponse({ type: ErrorBody })
@ApiNotFoundResponse({ description: 'No such supplier, or it has no feed', type: ErrorBody })
export class FeedsController {
  constructor(
    private readonly feeds: FeedsService,
    private readonly scheduler: FeedScheduler,
  ) {}

  /** The supplier's feed: configuration (credentials only as `configured`) and state. */
  @Get()
  @Auth('suppliers.read')
  get(@Param('name') name: string): Promise<FeedDto> {
    return this.feeds.get(name);
  }

  /**
   * Create or replace the supplier's feed.
   *
   * @remarks Indicium fetches `url` every `intervalMinutes` and applies it to the supplier:
   * `replace` makes the supplier hold exactly the feed's valid indicators (one transaction; a
   * failed or cut-short fetch changes nothing), `merge` upserts and removes. Entries are
   * validated and normalised like uploads. Credentials are write-only. Feed URLs are fetched
   * from the server's network: loopback and private addresses are refused unless
   * FEED_ALLOW_PRIVATE_NETWORKS=true. The first run is due at once.
   *
   * Formats: `text` (one value per line; `#`/`;` comments), `csv` (RFC 4180, column mapping in
   * `csv`), `stix21` (a bundle; `indicator` objects whose STIX pattern is one comparison or ORs
   * of `=` comparisons on ipv4-addr/ipv6-addr/domain-name/url/email-addr `value` or file
   * MD5/SHA-1/SHA-256 hashes; anything else is rejected with a reason), `taxii21` (`url` is the
   * API root; objects of `taxii.collectionId` since the last run), `misp` (`url` is the feed
   * directory; `to_ids` attributes of events changed since the last run). Context: STIX gives
   * `stixId`, `name`, `description`, `indicator_types`, `labels`; MISP gives `mispEvent`,
   * `info`, `category`, `comment`.
   */
  @Put()
  @Auth('suppliers.write')
  @ApiBody({ type: PutFeedDto, examples: PUT_FEED_EXAMPLES })
  @ApiConflictResponse({ description: 'Built-in suppliers cannot have a feed', type: ErrorBody })
  async put(
    @Param('name') name: string,
    @Body() dto: PutFeedDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<FeedDto> {
    const feed = await this.feeds.put(name, dto, ctx);
    this.scheduler.wake();
    return feed;
  }

  /** Remove the feed; the supplier keeps its indicators. */
  @Delete()
  @Auth('suppliers.write')
  @HttpCode(204)
  delete(@Param('name') name: string, @AuditCtx() ctx: AuditContext): Promise<void> {
    return this.feeds.delete(name, ctx);
  }

  /** Run the feed now (also when it is disabled). */
  @Post('run')
  @Auth('suppliers.write')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: FeedRunQueuedDto, description: 'Queued' })
  @ApiConflictResponse({ description: 'The feed is running', type: ErrorBody })
  async run(@Param('name') name: string): Promise<FeedRunQueuedDto> {
    await this.feeds.requestRun(name);
    this.scheduler.wake();
    return { queued: true };
  }

  /** The feed's runs, newest first (the last 500 are kept). */
  @Get('runs')
  @Auth('suppliers.read')
  runs(@Param('name') name: string, @Query() query: PageQuery): Promise<FeedRunPageDto> {
    return this.feeds.runs(name, query.limit, query.cursor);
  }
}

@ApiTags('Feeds')
@Controller('api/v1/feeds')
export class FeedListController {
  constructor(private readonly feeds: FeedsService) {}

  /**
   * Every feed of the tenant, with its supplier, in supplier-name order.
   *
   * @remarks The same view as GET /api/v1/suppliers/{name}/feed, one page of feeds at a time:
   * what a feed-health overview needs without asking supplier by supplier.
   */
  @Get()
  @Auth('suppliers.read')
  @ApiBadRequestResponse({ description: 'Invalid cursor or limit', type: ErrorBody })
  list(@Query() query: PageQuery): Promise<FeedPageDto> {
    return this.feeds.list(query.limit, query.cursor);
  }
}
