import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuditLogController } from './audit-log.controller';

/** The audit log's API (list, verify): a feature over the audit trail, guarded by auth. */
@Module({
  imports: [AuditModule],
  controllers: [AuditLogController],
})
export class AuditLogModule {}
