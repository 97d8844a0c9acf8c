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
import { IndicatorWriter } from './indicators/indicator-writer';
import { SupplierRow, SuppliersRepository } from './suppliers.repository';

function toSupplierDto(row: SupplierRow): SupplierDto {
  return {
    name: row.name,
    vendor: row.vendor,
    description: row.description,
    status: row.status,
    confidence: row.confidence,
    retentionMinutes: row.retentionMinutes,
    actionableFields: row.actionableFields,
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
      await this.assertNameFree(tx, dto.name);
      const created = toSupplierDto(
        await this.suppliers.insert(tx, {
          name: dto.name,
          vendor: dto.vendor ?? '',
          description: dto.description ?? DEFAULT_DESCRIPTION,
          status: 'enabled',
          confidence: dto.confidence ?? 50,
          retentionMinutes: dto.retentionMinutes ?? 0,
          actionableFields: dto.actionableFields ?? [],
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
      if (typeof dto.name === 'string' && dto.name.toLowerCase() !== row.name.toLowerCase()) {
        await this.assertNameFree(tx, dto.name);
      }
      const updated = await this.suppliers.update(tx, row.id, {
        name: dto.name ?? row.name,
        vendor: dto.vendor ?? row.vendor,
        description: dto.description ?? row.description,
        status: dto.status ?? row.status,
        confidence: dto.confidence ?? row.confidence,
        retentionMinutes: dto.retentionMinutes ?? row.retentionMinutes,
        actionableFields: dto.actionableFields ?? row.actionableFields,
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

  private async assertNameFree(tx: EntityManager, name: string): Promise<void> {
    const existing = await this.suppliers.findByName(name, tx);
    if (existing) {
      throw new NameTakenError(
        existing.builtIn
          ? `"${existing.name}" is a reserved supplier name`
          : `A supplier named "${existing.name}" already exists (names are case-insensitive)`,
      );
    }
  }
}
