import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuditCtx, type AuditContext } from '../audit/audit-context';
import { Actor, Auth, Delegated } from '../auth/auth.decorator';
import type { Principal } from '../auth/principal';
import { ErrorBody } from '../common/errors/error-body.dto';
import { PageQuery } from '../common/pagination';
import { CreateRoleDto, PrivilegeDto, RoleDto, RolePageDto, UpdateRoleDto } from './dto/role.dto';
import { RolesService } from './roles.service';

@ApiTags('Roles')
@Controller('api/v1/roles')
@Auth('roles.manage')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  /** List roles, built-in and custom, ordered by name. */
  @Get()
  @ApiBadRequestResponse({ type: ErrorBody })
  list(@Query() query: PageQuery): Promise<RolePageDto> {
    return this.roles.list(query.limit, query.cursor);
  }

  /** The privilege catalogue: every privilege a role can carry. */
  @Get('privileges')
  privileges(): PrivilegeDto[] {
    return this.roles.privilegeCatalogue();
  }

  /** Create a custom role. */
  @Delegated('roles.manage')
  @Post()
  @ApiBadRequestResponse({ description: 'Invalid name or unknown privilege', type: ErrorBody })
  @ApiConflictResponse({ description: 'A role with this name exists', type: ErrorBody })
  create(
    @Body() dto: CreateRoleDto,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<RoleDto> {
    return this.roles.create(dto, actor, ctx);
  }

  /** Change a custom role's description or privileges; takes effect at once for its holders. */
  @Delegated('roles.manage')
  @Patch(':name')
  @ApiBadRequestResponse({ type: ErrorBody })
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ description: 'Built-in roles are immutable', type: ErrorBody })
  update(
    @Param('name') name: string,
    @Body() dto: UpdateRoleDto,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<RoleDto> {
    return this.roles.update(name, dto, actor, ctx);
  }

  /** Delete a custom role that no principal holds. */
  @Delegated('roles.manage')
  @Delete(':name')
  @HttpCode(204)
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ description: 'Built in, or still assigned', type: ErrorBody })
  delete(
    @Param('name') name: string,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<void> {
    return this.roles.delete(name, actor, ctx);
  }
}
