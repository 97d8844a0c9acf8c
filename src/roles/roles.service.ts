import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { Delegation } from '../auth/delegation';
import type { Principal } from '../auth/principal';
import { ALL_PRIVILEGES, PRIVILEGES } from '../auth/privileges';
import {
  BuiltInImmutableError,
  NameTakenError,
  RoleInUseError,
  RoleNotFoundError,
} from '../common/errors/domain-errors';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { CreateRoleDto, PrivilegeDto, RoleDto, UpdateRoleDto } from './dto/role.dto';
import { RoleRow, RolesRepository } from './roles.repository';

function toRoleDto(row: RoleRow): RoleDto {
  return {
    name: row.name,
    description: row.description,
    builtIn: row.builtIn,
    privileges: [...row.privileges].sort(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

@Injectable()
export class RolesService {
  constructor(
    private readonly db: DataSource,
    private readonly roles: RolesRepository,
    private readonly audit: AuditService,
    private readonly delegation: Delegation,
  ) {}

  privilegeCatalogue(): PrivilegeDto[] {
    return ALL_PRIVILEGES.map((name) => ({ name, description: PRIVILEGES[name] }));
  }

  async list(limit: number, cursor?: string): Promise<Page<RoleDto>> {
    const after = decodeCursor(cursor, ['text']);
    const rows = await this.roles.listAfter(after ? String(after[0]) : null, limit + 1);
    return toPage(rows, limit, (r) => [r.name], toRoleDto);
  }

  async create(dto: CreateRoleDto, actor: Principal, ctx: AuditContext): Promise<RoleDto> {
    return this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        this.delegation.check(actor, {
          entityType: 'role',
          entityName: dto.name,
          grants: { name: dto.name, privileges: dto.privileges },
        });
        if (await this.roles.findByName(dto.name, tx)) {
          throw new NameTakenError(`A role named "${dto.name}" already exists`);
        }
        const role = toRoleDto(
          await this.roles.insert(tx, {
            name: dto.name,
            description: dto.description ?? '',
            privileges: dto.privileges,
          }),
        );
        await this.audit.record(tx, ctx, {
          action: 'role.create',
          entityType: 'role',
          entityName: role.name,
          operation: 'create',
          newValue: role,
        });
        return role;
      }),
    );
  }

  async update(
    name: string,
    dto: UpdateRoleDto,
    actor: Principal,
    ctx: AuditContext,
  ): Promise<RoleDto> {
    const updated = await this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const role = await this.mutableRole(name, tx);
        this.delegation.check(actor, {
          entityType: 'role',
          entityName: name,
          edits: role,
          grants: { name, privileges: dto.privileges ?? role.privileges },
        });
        const after = toRoleDto(
          await this.roles.update(
            tx,
            name,
            dto.description ?? role.description,
            dto.privileges ?? role.privileges,
          ),
        );
        await this.audit.record(tx, ctx, {
          action: 'role.update',
          entityType: 'role',
          entityName: name,
          operation: 'update',
          oldValue: toRoleDto(role),
          newValue: after,
        });
        return after;
      }),
    );
    return updated;
  }

  async delete(name: string, actor: Principal, ctx: AuditContext): Promise<void> {
    await this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const role = await this.mutableRole(name, tx);
        this.delegation.check(actor, { entityType: 'role', entityName: name, edits: role });
        const holders = await this.roles.countAssignments(tx, name);
        if (holders > 0) {
          throw new RoleInUseError(name, holders);
        }
        await this.roles.delete(tx, name);
        await this.audit.record(tx, ctx, {
          action: 'role.delete',
          entityType: 'role',
          entityName: name,
          operation: 'delete',
          oldValue: toRoleDto(role),
        });
      }),
    );
  }

  private async mutableRole(name: string, tx: import('typeorm').EntityManager): Promise<RoleRow> {
    const role = await this.roles.findByName(name, tx, true);
    if (!role) throw new RoleNotFoundError(name);
    if (role.builtIn)
      throw new BuiltInImmutableError(
        `Role "${name}" is built in and cannot be changed or deleted`,
      );
    return role;
  }
}
