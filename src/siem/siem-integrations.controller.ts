import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Auth } from '../auth/auth.decorator';
import { ErrorBody } from '../common/errors/error-body.dto';
import { PageQuery } from '../common/pagination';
import { uuidParam } from '../common/uuid.pipe';
import { AuditCtx, type AuditContext } from '../audit/audit-context';
import {
  CreateSiemIntegrationDto,
  SiemIntegrationDto,
  SiemIntegrationPageDto,
  SiemTestResultDto,
  UpdateSiemIntegrationDto,
} from './dto/siem-integration.dto';
import { SiemIntegrationsService } from './siem-integrations.service';

const uuid = uuidParam('id');

@ApiTags('SIEM integrations')
@Controller('api/v1/siem-integrations')
@Auth('siem.manage')
@ApiBadRequestResponse({ type: ErrorBody })
export class SiemIntegrationsController {
  constructor(private readonly integrations: SiemIntegrationsService) {}

  /** SIEM integrations with their delivery progress; the webhook secret is never returned. */
  @Get()
  list(@Query() query: PageQuery): Promise<SiemIntegrationPageDto> {
    return this.integrations.list(query.limit, query.cursor);
  }

  /**
   * Create a SIEM integration that forwards the audit log in real time.
   *
   * @remarks Syslog (RFC 5424; CEF or JSON; UDP, TCP or TLS with RFC 6587 octet counting) or
   * a webhook (POSTed JSON arrays signed with HMAC-SHA256).
   */
  @Post()
  @ApiConflictResponse({ description: 'Name taken', type: ErrorBody })
  create(
    @Body() dto: CreateSiemIntegrationDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<SiemIntegrationDto> {
    return this.integrations.create(dto, ctx);
  }

  /** One SIEM integration with its delivery progress. */
  @Get(':id')
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param('id', uuid) id: string): Promise<SiemIntegrationDto> {
    return this.integrations.get(id);
  }

  /** Change any field; the result is validated as a whole for its type. */
  @Patch(':id')
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ description: 'Name taken', type: ErrorBody })
  update(
    @Param('id', uuid) id: string,
    @Body() dto: UpdateSiemIntegrationDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<SiemIntegrationDto> {
    return this.integrations.update(id, dto, ctx);
  }

  /** Delete a SIEM integration. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNotFoundResponse({ type: ErrorBody })
  delete(@Param('id', uuid) id: string, @AuditCtx() ctx: AuditContext): Promise<void> {
    return this.integrations.delete(id, ctx);
  }

  /** Send a test event now. UDP cannot confirm receipt: it answers `{delivered: false, status: "sent"}`. */
  @Post(':id/test')
  @HttpCode(200)
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiBadGatewayResponse({
    description: 'The receiver could not be reached; the message says why',
    type: ErrorBody,
  })
  test(@Param('id', uuid) id: string, @AuditCtx() ctx: AuditContext): Promise<SiemTestResultDto> {
    return this.integrations.test(id, ctx);
  }
}
