import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { AuditCtx, type AuditContext } from '../audit/audit-context';
import { Actor, Auth, Delegated } from '../auth/auth.decorator';
import type { Principal } from '../auth/principal';
import { ErrorBody } from '../common/errors/error-body.dto';
import { PageQuery } from '../common/pagination';
import { uuidParam } from '../common/uuid.pipe';
import { ApiClientsService } from './api-clients.service';
import {
  ApiClientDto,
  ApiClientPageDto,
  ApiClientWithSecretDto,
  ClientSecretDto,
  CreateApiClientDto,
  UpdateApiClientDto,
} from './dto/api-client.dto';

const uuid = uuidParam('id');

@ApiTags('API clients')
@Controller('api/v1/api-clients')
@Auth('clients.manage')
@ApiBadRequestResponse({ type: ErrorBody })
export class ApiClientsController {
  constructor(private readonly clients: ApiClientsService) {}

  /** List API clients (never with secrets). */
  @Get()
  list(@Query() query: PageQuery): Promise<ApiClientPageDto> {
    return this.clients.list(query.limit, query.cursor);
  }

  /** Create an API client. The response holds `clientSecret`, shown this once only. */
  @Delegated('clients.manage')
  @Post()
  @Header('Cache-Control', 'no-store') // a secret must not linger in any cache
  create(
    @Body() dto: CreateApiClientDto,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<ApiClientWithSecretDto> {
    return this.clients.create(dto, actor, ctx);
  }

  /** One API client (never with its secret). */
  @Get(':id')
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param('id', uuid) id: string): Promise<ApiClientDto> {
    return this.clients.get(id);
  }

  /** Change name, role, IP allow-list or status; `inactive` also revokes its tokens. */
  @Delegated('clients.manage')
  @Patch(':id')
  @ApiNotFoundResponse({ type: ErrorBody })
  update(
    @Param('id', uuid) id: string,
    @Body() dto: UpdateApiClientDto,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<ApiClientDto> {
    return this.clients.update(id, dto, actor, ctx);
  }

  /** Delete an API client; its tokens stop working at once. */
  @Delegated('clients.manage')
  @Delete(':id')
  @HttpCode(204)
  @ApiNotFoundResponse({ type: ErrorBody })
  delete(
    @Param('id', uuid) id: string,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<void> {
    return this.clients.delete(id, actor, ctx);
  }

  /** Rotate the secret: the old secret and every token issued with it stop working at once. */
  @Delegated('clients.manage')
  @Post(':id/secret')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiNotFoundResponse({ type: ErrorBody })
  rotateSecret(
    @Param('id', uuid) id: string,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<ClientSecretDto> {
    return this.clients.rotateSecret(id, actor, ctx);
  }
}
