import { Global, Module } from '@nestjs/common';
import { TenantDirectory } from './tenant-directory';
import { TenantsRepository } from './tenants.repository';

/**
 * The tenant tree every request and background loop consults. Global: like the database,
 * it is the substrate of authentication and of every per-tenant loop.
 */
@Global()
@Module({
  providers: [TenantsRepository, TenantDirectory],
  exports: [TenantsRepository, TenantDirectory],
})
export class TenantDirectoryModule {}
