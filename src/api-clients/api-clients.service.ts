import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { newClientId, newClientSecret } from '../auth/client-credentials';
import { Delegation } from '../auth/delegation';
import { PasswordHasher } from '../auth/password-hasher';
import type { Principal } from '../auth/principal';
import {
  ApiClientNotFoundError,
  UnknownReferenceError,
  ValidationError,
} from '../common/errors/domain-errors';
import { formatRange, parseRange } from '../common/net/ip-utils';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { RoleRow, RolesRepository } from '../roles/roles.repository';
import { ApiClientChange, ApiClientRow, ApiClientsRepository } from './api-clients.repository';
import {
  ApiClientDto,
  ApiClientWithSecretDto,
  ClientSecretDto,
  CreateApiClientDto,
  IpRestrictionDto,
  UpdateApiClientDto,
} from './dto/api-client.dto';

function toApiClientDto(row: ApiClientRow): ApiClientDto {
  return {
    id: row.id,
    name: row.name,
    clientId: row.clientId,
    role: row.role,
    ipRestriction: { mode: row.ipMode, allowedIps: row.allowedIps },
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt ? row.lastUsedAt.toISOString() : null,
    lastUsedIp: row.lastUsedIp,
  };
}

/** Canonical allow-list: each entry parsed, host bits cleared, duplicates dropped. */
function canonicalRestriction(r: IpRestrictionDto): Pick<ApiClientChange, 'ipMode' | 'allowedIps'> {
  const allowedIps = r.allowedIps.map((entry, i) => {
    try {
      return formatRange(parseRange(entry));
    } catch (e) {
      throw new ValidationError(`ipRestriction.allowedIps[${i}]: ${(e as Error).message}`);
    }
  });
  if (r.mode === 'restricted' && allowedIps.length === 0) {
    throw new ValidationError(
      'ipRestriction.allowedIps must not be empty when mode is "restricted"',
    );
  }
  return { ipMode: r.mode, allowedIps: [...new Set(allowedIps)] };
}

/** API clients (integrations): credentials shown once, stored hashed, revocable at once. */
@Injectable()
export class ApiClientsService {
  constructor(
    private readonly db: DataSource,
    private readonly clients: ApiClientsRepository,
    private readonly roles: RolesRepository,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    private readonly delegation: Delegation,
  ) {}

  async list(limit: number, cursor?: string): Promise<Page<ApiClientDto>> {
    const after = decodeCursor(cursor, ['uuid']);
    const rows = await this.clients.listAfter(after ? String(after[0]) : null, limit + 1);
    return toPage(rows, limit, (r) => [r.id], toApiClientDto);
  }

  async get(id: string): Promise<ApiClientDto> {
    return toApiClientDto(await this.mustFind(id));
  }

  async create(
    dto: CreateApiClientDto,
    actor: Principal,
    ctx: AuditContext,
  ): Promise<ApiClientWithSecretDto> {
    const restriction = canonicalRestriction(
      dto.ipRestriction ?? { mode: 'allow_all', allowedIps: [] },
    );
    const clientSecret = newClientSecret();
    const secretHash = await this.hasher.hash(clientSecret);
    const client = await this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const role = await this.mustFindRole(dto.role, tx);
        this.delegation.check(actor, {
          entityType: 'api_client',
          entityName: dto.name,
          grants: role,
        });
        const created = toApiClientDto(
          await this.clients.insert(tx, {
            name: dto.name,
            clientId: newClientId(),
            secretHash,
            role: dto.role,
            status: dto.status ?? 'active',
            ...restriction,
          }),
        );
        await this.audit.record(tx, ctx, {
          action: 'api_client.create',
          entityType: 'api_client',
          entityName: created.clientId,
          operation: 'create',
          newValue: created,
        });
        return created;
      }),
    );
    return { ...client, clientSecret };
  }

  async update(
    id: string,
    dto: UpdateApiClientDto,
    actor: Principal,
    ctx: AuditContext,
  ): Promise<ApiClientDto> {
    const updated = await this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const before = await this.mustFind(id, tx);
        const current = await this.mustFindRole(before.role, tx);
        this.delegation.check(actor, {
          entityType: 'api_client',
          entityName: before.clientId,
          target: { type: 'client', id, role: current },
          grants:
            dto.role === undefined
              ? undefined
              : dto.role === before.role
                ? current
                : await this.mustFindRole(dto.role, tx),
        });
        const after = await this.clients.update(tx, id, {
          name: dto.name ?? before.name,
          role: dto.role ?? before.role,
          status: dto.status ?? before.status,
          ...(dto.ipRestriction
            ? canonicalRestriction(dto.ipRestriction)
            : { ipMode: before.ipMode, allowedIps: before.allowedIps }),
        });
        // Deactivation ends the client's sessions too, not only its next token.
        if (after.status === 'inactive') await this.clients.revokeTokens(tx, id);
        await this.audit.record(tx, ctx, {
          action: 'api_client.update',
          entityType: 'api_client',
          entityName: after.clientId,
          operation: 'update',
          oldValue: toApiClientDto(before),
          newValue: toApiClientDto(after),
        });
        return after;
      }),
    );
    return toApiClientDto(updated);
  }

  async delete(id: string, actor: Principal, ctx: AuditContext): Promise<void> {
    await this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const client = await this.mustFind(id, tx);
        await this.assertMayActOn(actor, client, tx);
        await this.clients.delete(tx, id);
        await this.audit.record(tx, ctx, {
          action: 'api_client.delete',
          entityType: 'api_client',
          entityName: client.clientId,
          operation: 'delete',
          oldValue: toApiClientDto(client),
        });
      }),
    );
  }

  async rotateSecret(id: string, actor: Principal, ctx: AuditContext): Promise<ClientSecretDto> {
    const clientSecret = newClientSecret();
    const secretHash = await this.hasher.hash(clientSecret);
    const clientId = await this.delegation.guard(ctx, () =>
      this.db.transaction(async (tx) => {
        const client = await this.mustFind(id, tx);
        await this.assertMayActOn(actor, client, tx);
        await this.clients.replaceSecret(tx, id, secretHash);
        await this.audit.record(tx, ctx, {
          action: 'api_client.rotate_secret',
          entityType: 'api_client',
          entityName: client.clientId,
          operation: 'update',
        });
        return client.clientId;
      }),
    );
    return { clientId, clientSecret };
  }

  private async mustFind(id: string, tx?: EntityManager): Promise<ApiClientRow> {
    const row = await this.clients.findById(id, tx);
    if (!row) throw new ApiClientNotFoundError(id);
    return row;
  }

  private async mustFindRole(role: string, tx: EntityManager): Promise<RoleRow> {
    const row = await this.roles.findByName(role, tx);
    if (!row) throw new UnknownReferenceError(`role "${role}" does not exist`);
    return row;
  }

  private async assertMayActOn(
    actor: Principal,
    client: ApiClientRow,
    tx: EntityManager,
  ): Promise<void> {
    this.delegation.check(actor, {
      entityType: 'api_client',
      entityName: client.clientId,
      target: { type: 'client', id: client.id, role: await this.mustFindRole(client.role, tx) },
    });
  }
}
