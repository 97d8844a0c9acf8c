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
import { CreateTenantDto, TenantDto, TenantPageDto, UpdateTenantDto } from './dto/tenant.dto';
import { TenantsService } from './tenants.service';

/**
 * The tenants below the acting tenant (the caller's home, or the one `X-Indicium-Tenant`
 * names). A tenant outside the caller's reach answers 404 exactly as one that does not exist.
 */
@ApiTags('Tenants')
@Controller('api/v1/tenants')
@Auth('tenants.manage')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  /** The descendants of the acting tenant (children, grandchildren, …), ordered by name. */
  @Get()
  @ApiBadRequestResponse({ type: ErrorBody })
  list(@Query() query: PageQuery): Promise<TenantPageDto> {
    return this.tenants.list(query.limit, query.cursor);
  }

  /** Create a child of the acting tenant, with its own InternalTI and FalsePositive suppliers and built-in roles. */
  @Post()
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiConflictResponse({
    description: 'A tenant of this name exists (names are platform-wide)',
    type: ErrorBody,
  })
  create(@Body() dto: CreateTenantDto, @AuditCtx() ctx: AuditContext): Promise<TenantDto> {
    return this.tenants.create(dto, ctx);
  }

  /** The acting tenant itself or one of its descendants. */
  @Get(':name')
  @ApiNotFoundResponse({ description: 'tenant not found', type: ErrorBody })
  get(@Param('name') name: string): TenantDto {
    return this.tenants.get(name);
  }

  /** Rename for display, suspend (its principals and its descendants' get 401) or reactivate. */
  @Patch(':name')
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ description: 'tenant not found', type: ErrorBody })
  update(
    @Param('name') name: string,
    @Body() dto: UpdateTenantDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<TenantDto> {
    return this.tenants.update(name, dto, ctx);
  }

  /**
   * Offboard a tenant: its principals stop at once, its data is deleted in the background.
   * @remarks Every instance refuses its principals within seconds; its rows are deleted in
   * batches off the request path. It must have no child tenants.
   */
  @Delete(':name')
  @HttpCode(204)
  @ApiNotFoundResponse({ description: 'tenant not found', type: ErrorBody })
  @ApiConflictResponse({ description: 'The tenant has child tenants', type: ErrorBody })
  remove(@Param('name') name: string, @AuditCtx() ctx: AuditContext): Promise<void> {
    return this.tenants.remove(name, ctx);
  }
}
