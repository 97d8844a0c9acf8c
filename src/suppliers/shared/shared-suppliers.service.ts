import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditContext } from '../../audit/audit-context';
import { AuditService } from '../../audit/audit.service';
import { SupplierNotFoundError } from '../../common/errors/domain-errors';
import { TenantDirectory } from '../../tenancy/tenant-directory';
import { SharedSupplierDto, UpdateSharedSupplierDto } from './shared-supplier.dto';
import { OfferedSupplier, SharedSuppliersRepository } from './shared-suppliers.repository';

/**
 * Subscriptions to the suppliers ancestors share (docs/tenancy.md). A subscription changes
 * what this tenant reads, never the supplier: its writes stay with the owner.
 */
@Injectable()
export class SharedSuppliersService {
  constructor(
    private readonly db: DataSource,
    private readonly repo: SharedSuppliersRepository,
    private readonly tenants: TenantDirectory,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<SharedSupplierDto[]> {
    return (await this.repo.list()).map((o) => this.toDto(o));
  }

  async update(
    name: string,
    dto: UpdateSharedSupplierDto,
    ctx: AuditContext,
  ): Promise<SharedSupplierDto> {
    return this.db.transaction(async (tx) => {
      const offered = await this.repo.findOffered(tx, name);
      if (!offered) throw new SupplierNotFoundError(name);
      const own = dto.actionableFields ?? null;
      await this.repo.save(tx, offered, dto.subscribed, own);
      const before = this.toDto(offered);
      const after = this.toDto({
        ...offered,
        subscribed: dto.subscribed,
        ownActionableFields: own,
      });
      await this.audit.record(tx, ctx, {
        action: dto.subscribed ? 'shared_supplier.subscribe' : 'shared_supplier.unsubscribe',
        entityType: 'shared_supplier',
        entityName: offered.name,
        operation: 'update',
        oldValue: before,
        newValue: after,
      });
      return after;
    });
  }

  private toDto(o: OfferedSupplier): SharedSupplierDto {
    return {
      name: o.name,
      owner: this.tenants.nameOf(o.ownerTenant),
      description: o.description,
      confidence: o.confidence,
      subscribed: o.subscribed,
      actionableFields: o.ownActionableFields ?? o.actionableFields,
    };
  }
}
