import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { RolesModule } from '../roles/roles.module';
import { SuppliersModule } from '../suppliers/suppliers.module';
import { TenantPurge } from './tenant-purge';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';

/** Tenants below the acting one: create, suspend, offboard (docs/tenancy.md). */
@Module({
  imports: [AuditModule, RolesModule, SuppliersModule],
  controllers: [TenantsController],
  providers: [TenantsService, TenantPurge],
})
export class TenantsModule {}
