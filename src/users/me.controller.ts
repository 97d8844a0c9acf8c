import { Body, Controller, Get, HttpCode, Put, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiTags } from '@nestjs/swagger';
import { AuditCtx, type AuditContext } from '../audit/audit-context';
import { Auth } from '../auth/auth.decorator';
import type { IndiciumRequest, Principal } from '../auth/principal';
import { ErrorBody } from '../common/errors/error-body.dto';
import { ChangeOwnPasswordDto, MeDto } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('Me')
@Controller('api/v1/me')
@Auth()
export class MeController {
  constructor(private readonly users: UsersService) {}

  /** Who am I: the calling user or API client, its role and privileges. */
  @Get()
  me(@Req() req: IndiciumRequest): MeDto {
    return this.users.me(req.principal as Principal);
  }

  /** Change your own password (users only). */
  @Put('password')
  @HttpCode(204)
  @ApiBadRequestResponse({
    description: 'currentPassword wrong, or newPassword invalid',
    type: ErrorBody,
  })
  changePassword(
    @Req() req: IndiciumRequest,
    @Body() dto: ChangeOwnPasswordDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<void> {
    return this.users.changeOwnPassword(
      req.principal as Principal,
      ctx,
      dto.currentPassword,
      dto.newPassword,
    );
  }
}
