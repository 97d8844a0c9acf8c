import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import {
  ForbiddenError,
  NameTakenError,
  TenantHasChildrenError,
  TenantNotFoundError,
} from '../common/errors/domain-errors';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { inTenant, requireTenant } from '../database/tenant-context';
import { RolesRepository } from '../roles/roles.repository';
import { SuppliersRepository } from '../suppliers/suppliers.repository';
import type { CreateTenantDto, TenantDto, UpdateTenantDto } from './dto/tenant.dto';
import { Tenant, TenantDirectory } from '../tenancy/tenant-directory';
import { TenantPurge } from './tenant-purge';
import { TenantRow, TenantsRepository } from '../tenancy/tenants.repository';

/**
 * The tenant tree below the acting tenant (docs/tenancy.md). Every method works relative to
 * the request's tenant: a tenant outside it answers exactly as one that does not exist.
 */
@Injectable()
export class TenantsService {
  constructor(
    private readonly db: DataSource,
    private readonly tenants: TenantsRepository,
    private readonly directory: TenantDirectory,
    private readonly roles: RolesRepository,
    private readonly suppliers: SuppliersRepository,
    private readonly audit: AuditService,
    private readonly purge: TenantPurge,
  ) {}

  list(limit: number, cursor?: string): Promise<Page<TenantDto>> {
    const after = decodeCursor(cursor, ['text']);
    const below = this.directory
      .descendantsOf(requireTenant())
      .filter((t) => after === null || t.name > String(after[0]));
    return Promise.resolve(
      toPage(
        below.slice(0, limit + 1),
        limit,
        (t) => [t.name],
        (t) => this.toDto(t),
      ),
    );
  }

  /** The acting tenant itself or one below it. */
  get(name: string): TenantDto {
    const t = this.directory.byName(name);
    const acting = requireTenant();
    if (!t || !this.directory.isWithin(t.id, acting)) throw new TenantNotFoundError();
    return this.toDto(t);
  }

  /** A child of the acting tenant, with its own built-in roles and suppliers. */
  async create(dto: CreateTenantDto, ctx: AuditContext): Promise<TenantDto> {
    const parentId = requireTenant();
    const id = randomUUID();
    const displayName = dto.displayName ?? dto.name;
    const row = await this.db.transaction(async (tx) => {
      if (await this.tenants.lockByName(tx, dto.name)) {
        throw new NameTakenError(`A tenant named "${dto.name}" already exists`);
      }
      const created = await this.tenants.insert(tx, { id, name: dto.name, displayName, parentId });
      await inTenant(id, async () => {
        await this.roles.insertBuiltIns(tx);
        await this.suppliers.insertBuiltIns(tx);
      });
      await this.audit.record(tx, ctx, {
        action: 'tenant.create',
        entityType: 'tenant',
        entityName: dto.name,
        operation: 'create',
        newValue: { name: dto.name, displayName },
      });
      return created;
    });
    this.directory.changed(row);
    return this.toDto(row);
  }

  async update(name: string, dto: UpdateTenantDto, ctx: AuditContext): Promise<TenantDto> {
    const target = this.below(name);
    const row = await this.db.transaction(async (tx) => {
      const before = await this.lock(tx, target);
      const after = await this.tenants.update(tx, target.id, dto);
      await this.audit.record(tx, ctx, {
        action: 'tenant.update',
        entityType: 'tenant',
        entityName: name,
        operation: 'update',
        oldValue: { displayName: before.displayName, status: before.status },
        newValue: { displayName: after.displayName, status: after.status },
      });
      return after;
    });
    this.directory.changed(row);
    return this.toDto(row);
  }

  /**
   * Offboarding: its principals stop at once (this instance now, the others within about a
   * second), then its data is deleted in batches off the request path (TenantPurge).
   */
  async remove(name: string, ctx: AuditContext): Promise<void> {
    const target = this.below(name);
    const row = await this.db.transaction(async (tx) => {
      const before = await this.lock(tx, target);
      if (await this.tenants.hasChildren(tx, target.id)) throw new TenantHasChildrenError(name);
      const after = await this.tenants.update(tx, target.id, { status: 'deleting' });
      await this.audit.record(tx, ctx, {
        action: 'tenant.delete',
        entityType: 'tenant',
        entityName: name,
        operation: 'delete',
        oldValue: { displayName: before.displayName, status: before.status },
      });
      return after;
    });
    this.directory.changed(row);
    this.purge.kick();
  }

  /** A tenant strictly below the acting one (a tenant does not change itself: its parent does). */
  private below(name: string): Tenant {
    const t = this.directory.byName(name);
    const acting = requireTenant();
    if (!t || !this.directory.isWithin(t.id, acting)) throw new TenantNotFoundError();
    if (t.id === acting) {
      throw new ForbiddenError('A tenant cannot change or delete itself; its parent tenant can');
    }
    return t;
  }

  /** The row of `target`, locked, unless it went or began offboarding meanwhile. */
  private async lock(tx: EntityManager, target: Tenant): Promise<TenantRow> {
    const row = await this.tenants.lockByName(tx, target.name);
    if (!row || row.id !== target.id || row.status === 'deleting') throw new TenantNotFoundError();
    return row;
  }

  private toDto(t: TenantRow): TenantDto {
    return {
      id: t.id,
      name: t.name,
      displayName: t.displayName,
      parent: t.parentId === null ? null : this.directory.nameOf(t.parentId),
      status: t.status === 'suspended' ? 'suspended' : 'active',
      createdAt: t.createdAt.toISOString(),
    };
  }
}
