import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth } from '../auth/auth.decorator';
import { ErrorBody } from '../common/errors/error-body.dto';
import { AuditService, VerifyResult } from '../audit/audit.service';
import { AuditLogQuery, AuditRecordPageDto, AuditVerifyDto } from './dto/audit-log.dto';

@ApiTags('Audit log')
@Controller('api/v1/audit-logs')
@Auth('audit.read')
export class AuditLogController {
  constructor(private readonly audit: AuditService) {}

  /** Audit records, newest first; every filter is optional and they combine with AND. */
  @Get()
  @ApiBadRequestResponse({
    description: 'Invalid filter, cursor or unknown parameter',
    type: ErrorBody,
  })
  list(@Query() q: AuditLogQuery): Promise<AuditRecordPageDto> {
    const { from, to, actor, action, entityType, outcome } = q;
    return this.audit.list(
      {
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
        actor,
        action,
        entityType,
        outcome,
      },
      q.limit,
      q.cursor,
    );
  }

  /** Re-computes the hash chain over every record: `{valid: true, checked}` or `{valid: false, brokenAt}`. */
  @Get('verify')
  @ApiOkResponse({ type: AuditVerifyDto })
  verify(): Promise<VerifyResult> {
    return this.audit.verify();
  }
}
