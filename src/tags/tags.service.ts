import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { NameTakenError, TagNotFoundError } from '../common/errors/domain-errors';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { CreateTagDto, TagDto, UpdateTagDto } from './dto/tag.dto';
import { TagRow, TagsRepository } from './tags.repository';

function toTagDto(row: TagRow): TagDto {
  return {
    name: row.name,
    weight: row.weight,
    description: row.description,
    color: row.color,
    indicatorCount: Number(row.indicatorCount),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

@Injectable()
export class TagsService {
  constructor(
    private readonly db: DataSource,
    private readonly tags: TagsRepository,
    private readonly audit: AuditService,
  ) {}

  async list(limit: number, cursor?: string): Promise<Page<TagDto>> {
    const after = decodeCursor(cursor, 1);
    const rows = await this.tags.listAfter(after ? String(after[0]) : null, limit + 1);
    return toPage(rows, limit, (r) => [r.name], toTagDto);
  }

  async get(name: string): Promise<TagDto> {
    return toTagDto(await this.find(name));
  }

  async create(dto: CreateTagDto, ctx: AuditContext): Promise<TagDto> {
    return this.db.transaction(async (tx) => {
      await this.assertNameFree(tx, dto.name);
      const tag = toTagDto(
        await this.tags.insert(tx, {
          name: dto.name.toUpperCase(),
          weight: dto.weight ?? 0,
          description: dto.description ?? '',
          color: dto.color?.toLowerCase() ?? null,
        }),
      );
      await this.audit.record(tx, ctx, {
        action: 'tag.create',
        entityType: 'tag',
        entityName: tag.name,
        operation: 'create',
        newValue: tag,
      });
      return tag;
    });
  }

  async update(name: string, dto: UpdateTagDto, ctx: AuditContext): Promise<TagDto> {
    return this.db.transaction(async (tx) => {
      const row = await this.find(name, tx, true);
      // @IsOptional() lets null through: like every field here, null leaves the name as it is.
      if (typeof dto.name === 'string' && dto.name.toUpperCase() !== row.name) {
        await this.assertNameFree(tx, dto.name);
      }
      const after = toTagDto(
        await this.tags.update(tx, row.id, {
          name: dto.name?.toUpperCase() ?? row.name,
          weight: dto.weight ?? row.weight,
          description: dto.description ?? row.description,
          color: dto.color === undefined ? row.color : (dto.color?.toLowerCase() ?? null),
        }),
      );
      await this.audit.record(tx, ctx, {
        action: 'tag.update',
        entityType: 'tag',
        entityName: after.name,
        operation: 'update',
        oldValue: toTagDto(row),
        newValue: after,
      });
      return after;
    });
  }

  /** Deletes the tag and every assignment of it. */
  async delete(name: string, ctx: AuditContext): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await this.find(name, tx, true);
      await this.tags.delete(tx, row.id);
      await this.audit.record(tx, ctx, {
        action: 'tag.delete',
        entityType: 'tag',
        entityName: row.name,
        operation: 'delete',
        oldValue: toTagDto(row),
      });
    });
  }

  private async find(name: string, manager?: EntityManager, lock = false): Promise<TagRow> {
    const row = await this.tags.findByName(name, manager, lock);
    if (!row) throw new TagNotFoundError(name);
    return row;
  }

  private async assertNameFree(tx: EntityManager, name: string): Promise<void> {
    if (await this.tags.findByName(name, tx)) {
      throw new NameTakenError(`A tag named "${name.toUpperCase()}" already exists`);
    }
  }
}
