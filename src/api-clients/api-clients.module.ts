import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { RolesModule } from '../roles/roles.module';
import { ApiClientsController } from './api-clients.controller';
import { ApiClientsRepository } from './api-clients.repository';
import { ApiClientsService } from './api-clients.service';

@Module({
  imports: [AuditModule, AuthModule, RolesModule],
  controllers: [ApiClientsController],
  providers: [ApiClientsRepository, ApiClientsService],
})
export class ApiClientsModule {}
