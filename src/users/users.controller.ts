import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
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
import { uuidParam } from '../common/uuid.pipe';
import { CreateUserDto, PasswordDto, UpdateUserDto, UserDto, UserPageDto } from './dto/user.dto';
import { UsersService } from './users.service';

const uuid = uuidParam('id');

@ApiTags('Users')
@Controller('api/v1/users')
@Auth('users.manage')
@ApiBadRequestResponse({ type: ErrorBody })
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** List users (people). */
  @Get()
  list(@Query() query: PageQuery): Promise<UserPageDto> {
    return this.users.list(query.limit, query.cursor);
  }

  /** Create a user with a role. */
  @Delegated('users.manage')
  @Post()
  @ApiConflictResponse({ description: 'Username taken', type: ErrorBody })
  create(
    @Body() dto: CreateUserDto,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<UserDto> {
    return this.users.create(dto, actor, ctx);
  }

  /** One user (never with a password or hash). */
  @Get(':id')
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param('id', uuid) id: string): Promise<UserDto> {
    return this.users.get(id);
  }

  /** Change a user's role or status. The last active Administrator cannot be demoted or deactivated. */
  @Delegated('users.manage')
  @Patch(':id')
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ description: 'Last active Administrator', type: ErrorBody })
  update(
    @Param('id', uuid) id: string,
    @Body() dto: UpdateUserDto,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<UserDto> {
    return this.users.update(id, dto, actor, ctx);
  }

  /** Delete a user. The last active Administrator cannot be deleted. */
  @Delegated('users.manage')
  @Delete(':id')
  @HttpCode(204)
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ description: 'Last active Administrator', type: ErrorBody })
  delete(
    @Param('id', uuid) id: string,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<void> {
    return this.users.delete(id, actor, ctx);
  }

  /** Administrator reset of a user's password. */
  @Delegated('users.manage')
  @Put(':id/password')
  @HttpCode(204)
  @ApiNotFoundResponse({ type: ErrorBody })
  resetPassword(
    @Param('id', uuid) id: string,
    @Body() dto: PasswordDto,
    @Actor() actor: Principal,
    @AuditCtx() ctx: AuditContext,
  ): Promise<void> {
    return this.users.resetPassword(id, dto.password, actor, ctx);
  }
}
