import { DEFAULT_TENANT_ID, inTenant } from '../database/tenant-context';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { Delegation } from '../auth/delegation';
import { LockoutService } from '../auth/lockout.service';
import { PasswordHasher } from '../auth/password-hasher';
import type { Principal } from '../auth/principal';
import { AppConfig } from '../config/app-config';
import { consoleUrl } from '../config/console-url';
import {
  ForbiddenError,
  LastAdministratorError,
  UnknownReferenceError,
  UserNotFoundError,
  ValidationError,
} from '../common/errors/domain-errors';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { RoleRow, RolesRepository } from '../roles/roles.repository';
import { CreateUserDto, MeDto, UpdateUserDto, UserDto } from './dto/user.dto';
import { ADMIN_ROLE, UserRow, UsersRepository } from './users.repository';

function toUserDto(row: UserRow): UserDto {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastLoginAt: row.lastLoginAt ? row.lastLoginAt.toISOString() : null,
  };
}

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly db: DataSource,
    private readonly users: UsersRepository,
    private readonly roles: RolesRepository,
    private readonly hasher: PasswordHasher,
    private readonly lockout: LockoutService,
    private readonly audit: AuditService,
    private readonly delegation: Delegation,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /** First start on an empty database: create `admin` (docs/api.md §2). */
  async onApplicationBootstrap(): Promise<void> {
    const generated = this.config.env.ADMIN_PASSWORD === undefined;
    const password = this.config.env.ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
    // The first administrator is the root tenant's (the operator's).
    const created = await inTenant(DEFAULT_TENANT_ID, () =>
      this.db.transaction(async (tx) => {
        if (!this.config.usesEmbeddedDatabase) {
          await this.users.lockBootstrap(tx);
        }
        if ((await this.users.count(tx)) > 0) return false;
        const passwordHash = await this.hasher.hash(password);
        await this.users.insert(tx, {
          username: 'admin',
          passwordHash,
          role: ADMIN_ROLE,
          status: 'active',
        });
        return true;
      }),
    );
    if (!created) return;
    this.logger.log('Created the initial administrator "admin"');
    if (generated) {
      // Printed straight to the console, once, and never logged: it is a credential.
      process.stdout.write(
        [
          '',
          '================================================================',
          '  Indicium: initial administrator created',
          '    username: admin',
          `    password: ${password}`,
          '  Shown only now. Change it: PUT /api/v1/me/password',
          '================================================================',
          '',
          `  Console: ${consoleUrl(this.config)}  (sign in as admin with this password)`,
          '',
        ].join('\n') + '\n',
      );
    }
  }

  async list(limit: number, cursor?: string): Promise<Page<UserDto>> {
    const after = decodeCursor(cursor, ['uuid']);
    const rows = await this.users.listAfter(after ? String(after[0]) : null, limit + 1);
    return toPage(rows, limit, (r) => [r.id], toUserDto);
  }

  async get(id: string): Promise<UserDto> {
    return toUserDto(await this.mustFind(id));
  }

  async create(dto: CreateUserDto, actor: Principal, ctx: AuditContext): Promise<UserDto> {
    const passwordHash = await this.hasher.hash(dto.password);
    return this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const role = await this.mustFindRole(dto.role, tx);
        this.delegation.check(actor, {
          entityType: 'user',
          entityName: dto.username,
          grants: role,
        });
        const user = toUserDto(
          await this.users.insert(tx, {
            username: dto.username,
            passwordHash,
            role: dto.role,
            status: dto.status ?? 'active',
          }),
        );
        await this.audit.record(tx, ctx, {
          action: 'user.create',
          entityType: 'user',
          entityName: user.username,
          operation: 'create',
          newValue: user,
        });
        return user;
      }),
    );
  }

  async update(
    id: string,
    dto: UpdateUserDto,
    actor: Principal,
    ctx: AuditContext,
  ): Promise<UserDto> {
    const row = await this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const admins = await this.users.lockActiveAdministrators(tx);
        const user = await this.mustFind(id, tx);
        const role = dto.role ?? user.role;
        const status = dto.status ?? user.status;
        const current = await this.mustFindRole(user.role, tx);
        const next = role === user.role ? current : await this.mustFindRole(role, tx);
        const staysAdmin = role === ADMIN_ROLE && status === 'active';
        if (!staysAdmin) this.assertNotLastAdmin(admins, id, 'demoted or deactivated');
        this.delegation.check(actor, {
          entityType: 'user',
          entityName: user.username,
          target: { type: 'user', id, role: current },
          grants: dto.role === undefined ? undefined : next,
        });
        const updated = await this.users.update(tx, id, role, status);
        await this.audit.record(tx, ctx, {
          action: 'user.update',
          entityType: 'user',
          entityName: user.username,
          operation: 'update',
          oldValue: toUserDto(user),
          newValue: toUserDto(updated),
        });
        return updated;
      }),
    );
    return toUserDto(row);
  }

  async delete(id: string, actor: Principal, ctx: AuditContext): Promise<void> {
    await this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const admins = await this.users.lockActiveAdministrators(tx);
        const user = await this.mustFind(id, tx);
        this.assertNotLastAdmin(admins, id, 'deleted');
        await this.assertMayActOn(actor, user, tx);
        await this.users.delete(tx, id);
        await this.audit.record(tx, ctx, {
          action: 'user.delete',
          entityType: 'user',
          entityName: user.username,
          operation: 'delete',
          oldValue: toUserDto(user),
        });
      }),
    );
  }

  resetPassword(id: string, password: string, actor: Principal, ctx: AuditContext): Promise<void> {
    return this.setPassword(id, password, ctx, 'user.reset_password', actor);
  }

  async changeOwnPassword(
    principal: Principal,
    ctx: AuditContext,
    current: string,
    next: string,
  ): Promise<void> {
    if (principal.type !== 'user') {
      throw new ForbiddenError('API clients have no password; rotate the client secret instead');
    }
    const stored = await this.users.passwordHash(principal.id);
    if (stored === null || !(await this.hasher.verify(current, stored))) {
      await this.lockout.recordFailure(principal.name, ctx.ip ?? '');
      await this.audit.recordEvent(ctx, {
        action: 'user.change_password',
        entityType: 'user',
        entityName: principal.name,
        operation: 'update',
        outcome: 'failure',
      });
      throw new ValidationError('currentPassword is not the current password');
    }
    if (current === next) throw new ValidationError('newPassword must differ from currentPassword');
    await this.setPassword(principal.id, next, ctx, 'user.change_password');
  }

  /** `actor`: an administrative reset, bound by the delegation rule; absent for one's own. */
  private async setPassword(
    id: string,
    password: string,
    ctx: AuditContext,
    action: string,
    actor?: Principal,
  ): Promise<void> {
    const passwordHash = await this.hasher.hash(password);
    await this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const user = await this.mustFind(id, tx);
        if (actor) await this.assertMayActOn(actor, user, tx);
        await this.users.setPassword(tx, id, passwordHash);
        await this.audit.record(tx, ctx, {
          action,
          entityType: 'user',
          entityName: user.username,
          operation: 'update',
        });
      }),
    );
  }

  me(principal: Principal): MeDto {
    return {
      type: principal.type,
      id: principal.id,
      name: principal.name,
      role: principal.role,
      privileges: [...principal.privileges].sort(),
    };
  }

  private async mustFind(id: string, tx?: EntityManager): Promise<UserRow> {
    const row = await this.users.findById(id, tx);
    if (!row) throw new UserNotFoundError(id);
    return row;
  }

  private async mustFindRole(role: string, tx: EntityManager): Promise<RoleRow> {
    const row = await this.roles.findByName(role, tx);
    if (!row) throw new UnknownReferenceError(`role "${role}" does not exist`);
    return row;
  }

  private async assertMayActOn(actor: Principal, user: UserRow, tx: EntityManager): Promise<void> {
    this.delegation.check(actor, {
      entityType: 'user',
      entityName: user.username,
      target: { type: 'user', id: user.id, role: await this.mustFindRole(user.role, tx) },
    });
  }

  private assertNotLastAdmin(activeAdmins: string[], id: string, what: string): void {
    if (activeAdmins.length === 1 && activeAdmins[0] === id) {
      throw new LastAdministratorError(what);
    }
  }
}
