import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import {
  BuiltInImmutableError,
  NameTakenError,
  SupplierNotFoundError,
} from '../common/errors/domain-errors';
import { decodeCursor, Page, toPage } from '../common/pagination';
import {
  CreateSupplierDto,
  DEFAULT_DESCRIPTION,
  SupplierDto,
  UpdateSupplierDto,
} from './dto/supplier.dto';
import { inTenant, requireTenant } from '../database/tenant-context';
import { SearchKeyIndex } from '../key-index/search-key-index';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { IndicatorWriter } from './indicators/indicator-writer';
import { SharedSuppliersRepository } from './shared/shared-suppliers.repository';
import { SupplierRow, SuppliersRepository } from './suppliers.repository';

/**
 * Arbitrary, fixed: held by every supplier create, rename and share to its commit, so two
 * tenants of one tree never claim one name in a view at once (docs/tenancy.md).
 */
const SUPPLIER_NAMES_LOCK = 0x5ab1_0001;
/** Keys read per query when a supplier's keys move to another scope of the key index. */
const REKEY_PAGE = 10_000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

function toSupplierDto(row: SupplierRow): SupplierDto {
  return {
    name: row.name,
    vendor: row.vendor,
    description: row.description,
    status: row.status,
    confidence: row.confidence,
    retentionMinutes: row.retentionMinutes,
    actionableFields: row.actionableFields,
    sharing: row.sharing,
    builtIn: row.builtIn,
    indicatorCount: Number(row.indicatorCount),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** What a built-in supplier accepts in PATCH. */
const BUILT_IN_MUTABLE: ReadonlySet<string> = new Set(['status', 'actionableFields']);

@Injectable()
export class SuppliersService {
  constructor(
    private readonly db: DataSource,
    private readonly suppliers: SuppliersRepository,
    private readonly writer: IndicatorWriter,
    private readonly audit: AuditService,
    private readonly shared: SharedSuppliersRepository,
    private readonly tenants: TenantDirectory,
    private readonly keyIndex: SearchKeyIndex,
  ) {}

  async list(limit: number, cursor?: string): Promise<Page<SupplierDto>> {
    const after = decodeCursor(cursor, 1);
    const rows = await this.suppliers.listAfter(after ? String(after[0]) : null, limit + 1);
    return toPage(rows, limit, (r) => [r.name.toLowerCase()], toSupplierDto);
  }

  async get(name: string): Promise<SupplierDto> {
    return toSupplierDto(await this.find(name));
  }

  /** The supplier, or SupplierNotFoundError. Path names match case-insensitively. */
  async find(name: string, manager?: EntityManager, lock = false): Promise<SupplierRow> {
    const row = await this.suppliers.findByName(name, manager, lock);
    if (!row) throw new SupplierNotFoundError(name);
    return row;
  }

  async create(dto: CreateSupplierDto, ctx: AuditContext): Promise<SupplierDto> {
    return this.db.transaction(async (tx) => {
      await this.lockNames(tx);
      await this.assertNameFree(tx, dto.name);
      if (dto.sharing === 'descendants') await this.assertFreeBelow(tx, dto.name);
      const created = toSupplierDto(
        await this.suppliers.insert(tx, {
          name: dto.name,
          vendor: dto.vendor ?? '',
          description: dto.description ?? DEFAULT_DESCRIPTION,
          status: 'enabled',
          confidence: dto.confidence ?? 50,
          retentionMinutes: dto.retentionMinutes ?? 0,
          actionableFields: dto.actionableFields ?? [],
          sharing: dto.sharing ?? 'none',
        }),
      );
      await this.audit.record(tx, ctx, {
        action: 'supplier.create',
        entityType: 'supplier',
        entityName: created.name,
        operation: 'create',
        newValue: created,
      });
      return created;
    });
  }

  async update(name: string, dto: UpdateSupplierDto, ctx: AuditContext): Promise<SupplierDto> {
    return this.db.transaction(async (tx) => {
      await this.lockNames(tx);
      const row = await this.find(name, tx, true);
      if (row.builtIn) {
        const refused = Object.keys(dto).filter(
          (k) => dto[k as keyof UpdateSupplierDto] !== undefined && !BUILT_IN_MUTABLE.has(k),
        );
        if (refused.length > 0) {
          throw new BuiltInImmutableError(
            `Supplier "${row.name}" is built in: only status and actionableFields can change (refused: ${refused.join(', ')})`,
          );
        }
      }
      // @IsOptional() lets null through: like every field here, null leaves the name as it is.
      const renamed =
        typeof dto.name === 'string' && dto.name.toLowerCase() !== row.name.toLowerCase();
      if (renamed) await this.assertNameFree(tx, dto.name as string);
      const sharing = dto.sharing ?? row.sharing;
      if (sharing === 'descendants' && (renamed || row.sharing !== sharing))
        await this.assertFreeBelow(tx, dto.name ?? row.name);
      const updated = await this.suppliers.update(tx, row.id, {
        name: dto.name ?? row.name,
        vendor: dto.vendor ?? row.vendor,
        description: dto.description ?? row.description,
        status: dto.status ?? row.status,
        confidence: dto.confidence ?? row.confidence,
        retentionMinutes: dto.retentionMinutes ?? row.retentionMinutes,
        actionableFields: dto.actionableFields ?? row.actionableFields,
        sharing,
      });
      if (updated.retentionMinutes !== row.retentionMinutes) {
        await this.writer.retentionChanged(tx, row.id, updated.retentionMinutes);
      }
      const after = toSupplierDto(updated);
      await this.audit.record(tx, ctx, {
        action: 'supplier.update',
        entityType: 'supplier',
        entityName: after.name,
        operation: 'update',
        oldValue: toSupplierDto(row),
        newValue: after,
      });
      // Last: the key feed row is the transaction's last statement.
      if (sharing !== row.sharing) await this.rekey(tx, row.id, sharing);
      return after;
    });
  }

  async delete(name: string, ctx: AuditContext): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await this.find(name, tx, true);
      if (row.builtIn) {
        throw new BuiltInImmutableError(`Supplier "${row.name}" is built in and cannot be deleted`);
      }
      await this.suppliers.delete(tx, row.id);
      await this.audit.record(tx, ctx, {
        action: 'supplier.delete',
        entityType: 'supplier',
        entityName: row.name,
        operation: 'delete',
        oldValue: toSupplierDto(row),
      });
    });
  }

  private async lockNames(tx: EntityManager): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(${SUPPLIER_NAMES_LOCK})`);
  }

  /** Free in this tenant's view: its own suppliers and those its ancestors share. */
  private async assertNameFree(tx: EntityManager, name: string): Promise<void> {
    const existing = await this.suppliers.findByName(name, tx);
    if (existing) {
      throw new NameTakenError(
        existing.builtIn
          ? `"${existing.name}" is a reserved supplier name`
          : `A supplier named "${existing.name}" already exists (names are case-insensitive)`,
      );
    }
    const offered = await this.shared.findOffered(tx, name);
    if (offered) {
      throw new NameTakenError(
        `"${offered.name}" is the name of a supplier tenant "${this.tenants.nameOf(offered.ownerTenant)}" shares with this tenant`,
      );
    }
  }

  /**
   * Free in every descendant's view, for a supplier about to be shared: each descendant's own
   * suppliers, read in its tenant inside this transaction (the others' shares it sees are
   * checked when they are made, under the same lock).
   */
  private async assertFreeBelow(tx: EntityManager, name: string): Promise<void> {
    for (const d of this.tenants.descendantsOf(requireTenant())) {
      const clash = await inTenant(d.id, () => this.suppliers.findByName(name, tx));
      if (clash) {
        throw new NameTakenError(
          `Tenant "${d.name}" already has a supplier named "${clash.name}": a shared supplier's name must be free in every descendant`,
        );
      }
    }
  }

  /**
   * Moves the supplier's keys to the key index scope of its new sharing (the old scope keeps
   * them as dead keys until a rebuild): every instance learns them from the feed row.
   */
  private async rekey(
    tx: EntityManager,
    supplierId: string,
    sharing: SupplierRow['sharing'],
  ): Promise<void> {
    const additions = this.keyIndex.additions(sharing);
    for (let after = NIL_UUID; ;) {
      const page = await this.suppliers.keysAfter(tx, supplierId, after, REKEY_PAGE);
      for (const k of page) additions.add(k.type, k.value);
      if (page.length < REKEY_PAGE) break;
      after = page[page.length - 1].id;
    }
    await additions.commit(tx);
  }
}
