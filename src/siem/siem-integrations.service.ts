import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { decodeCursor, Page, toPage } from '../common/pagination';
import type { AuditRecord } from '../audit/audit-chain';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { REDACTED } from '../audit/redact';
import {
  CreateSiemIntegrationDto,
  SiemIntegrationDto,
  SiemTestResultDto,
  UpdateSiemIntegrationDto,
} from './dto/siem-integration.dto';
import {
  SiemIntegrationFields,
  SiemIntegrationRow,
  SiemIntegrationsRepository,
} from './siem-integrations.repository';
import { SiemSender } from './siem-sender';
import { emptyColumns, missingColumns, targetColumns, targetFromColumns } from './siem-target';
import { PACKAGE_INFO } from '../config/package-info';

/** The version CEF headers carry (as the OpenAPI document does). */
export const PRODUCT_VERSION = PACKAGE_INFO.version;

const SYSLOG_FIELDS = ['transport', 'host', 'port', 'format', 'tlsInsecure', 'caCert'] as const;
const WEBHOOK_FIELDS = ['url', 'secret'] as const;

function toSiemIntegrationDto(r: SiemIntegrationRow): SiemIntegrationDto {
  const t = targetColumns(r.target);
  return {
    id: r.id,
    name: r.name,
    type: t.type,
    enabled: r.enabled,
    sendHistory: r.sendHistory,
    streams: r.streams,
    transport: t.transport,
    host: t.host,
    port: t.port,
    format: t.format,
    tlsInsecure: t.tlsInsecure,
    caCert: t.caCert,
    url: t.url,
    lastDeliveredSequence: r.lastDeliveredSequence,
    lastDeliveredAt: r.lastDeliveredAt ? r.lastDeliveredAt.toISOString() : null,
    lastError: r.lastError,
    backlog: r.backlog,
    lastDeliveredDetectionId: r.lastDeliveredDetection,
    detectionBacklog: r.detectionBacklog,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/**
 * Merges a request into the stored integration (if any) and checks the result as a whole:
 * syslog needs transport/host/port/format, webhook needs url/secret, and neither accepts
 * the other's fields. Fields of a previous type are dropped when the type changes.
 */
function resolveFields(
  dto: UpdateSiemIntegrationDto,
  existing?: SiemIntegrationRow,
): SiemIntegrationFields {
  const type = dto.type ?? existing?.target.type;
  const name = dto.name ?? existing?.name;
  if (!type || !name) throw new BadRequestException('name and type are required');
  const keep =
    existing && existing.target.type === type ? targetColumns(existing.target) : undefined;
  const foreign = type === 'syslog' ? WEBHOOK_FIELDS : SYSLOG_FIELDS;
  for (const field of foreign) {
    if (dto[field] !== undefined)
      throw new BadRequestException(`${field} does not apply to ${type} integrations`);
  }
  const c = emptyColumns(type);
  if (type === 'syslog') {
    c.transport = dto.transport ?? keep?.transport ?? null;
    c.host = dto.host ?? keep?.host ?? null;
    c.port = dto.port ?? keep?.port ?? null;
    c.format = dto.format ?? keep?.format ?? null;
    if (c.transport === 'tls') {
      c.tlsInsecure = dto.tlsInsecure ?? keep?.tlsInsecure ?? false;
      c.caCert = dto.caCert ?? keep?.caCert ?? null;
    } else if (dto.tlsInsecure !== undefined || dto.caCert !== undefined) {
      throw new BadRequestException('tlsInsecure and caCert apply only to the tls transport');
    }
  } else {
    c.url = dto.url ?? keep?.url ?? null;
    c.secret = dto.secret ?? keep?.secret ?? null;
  }
  const missing = missingColumns(c);
  if (missing.length)
    throw new BadRequestException(`${type} integrations need ${missing.join(', ')}`);
  return {
    name,
    enabled: dto.enabled ?? existing?.enabled ?? true,
    sendHistory: dto.sendHistory ?? existing?.sendHistory ?? false,
    streams: dto.streams ?? existing?.streams ?? ['audit'],
    target: targetFromColumns(c),
  };
}

/** The audit view of an integration: its read form, plus a marker when the secret was set. */
function audited(row: SiemIntegrationRow, secretSet: boolean): Record<string, unknown> {
  return { ...toSiemIntegrationDto(row), ...(secretSet ? { secret: REDACTED } : {}) };
}

@Injectable()
export class SiemIntegrationsService {
  constructor(
    private readonly db: DataSource,
    private readonly integrations: SiemIntegrationsRepository,
    private readonly audit: AuditService,
  ) {}

  async list(limit: number, cursor?: string): Promise<Page<SiemIntegrationDto>> {
    const after = decodeCursor(cursor, 1);
    const rows = await this.integrations.listAfter(after ? String(after[0]) : null, limit + 1);
    return toPage(rows, limit, (r) => [r.id], toSiemIntegrationDto);
  }

  async get(id: string): Promise<SiemIntegrationDto> {
    return toSiemIntegrationDto(await this.mustFind(id));
  }

  async create(dto: CreateSiemIntegrationDto, ctx: AuditContext): Promise<SiemIntegrationDto> {
    const fields = resolveFields(dto);
    return this.db.transaction(async (tx) => {
      await this.assertNameFree(tx, fields.name);
      const row = await this.integrations.insert(tx, fields);
      await this.audit.record(tx, ctx, {
        action: 'siem_integration.create',
        entityType: 'siem_integration',
        entityName: row.name,
        operation: 'create',
        newValue: audited(row, true),
      });
      return toSiemIntegrationDto(row);
    });
  }

  async update(
    id: string,
    dto: UpdateSiemIntegrationDto,
    ctx: AuditContext,
  ): Promise<SiemIntegrationDto> {
    return this.db.transaction(async (tx) => {
      const existing = await this.mustFind(id, tx);
      const fields = resolveFields(dto, existing);
      if (fields.name !== existing.name) await this.assertNameFree(tx, fields.name);
      const row = await this.integrations.update(tx, id, fields);
      await this.audit.record(tx, ctx, {
        action: 'siem_integration.update',
        entityType: 'siem_integration',
        entityName: row.name,
        operation: 'update',
        oldValue: audited(existing, false),
        newValue: audited(row, dto.secret !== undefined),
      });
      return toSiemIntegrationDto(row);
    });
  }

  async delete(id: string, ctx: AuditContext): Promise<void> {
    await this.db.transaction(async (tx) => {
      const existing = await this.mustFind(id, tx);
      await this.integrations.delete(tx, id);
      await this.audit.record(tx, ctx, {
        action: 'siem_integration.delete',
        entityType: 'siem_integration',
        entityName: existing.name,
        operation: 'delete',
        oldValue: audited(existing, false),
      });
    });
  }

  /** Sends one synthetic record (sequence 0, action `siem.test`) on a fresh connection. */
  async test(id: string, ctx: AuditContext): Promise<SiemTestResultDto> {
    const integration = await this.mustFind(id);
    const record: AuditRecord = {
      id: randomUUID(),
      sequence: 0,
      timestamp: new Date().toISOString(),
      actorType: ctx.actorType,
      actorId: ctx.actorId,
      actorName: ctx.actorName,
      action: 'siem.test',
      entityType: 'siem_integration',
      entityName: integration.name,
      operation: 'access',
      outcome: 'success',
      oldValue: null,
      newValue: { message: 'Indicium SIEM integration test event' },
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      requestId: ctx.requestId,
      hash: '',
    };
    const sender = new SiemSender(integration.target, PRODUCT_VERSION, hostname());
    try {
      const status = await sender.sendConfirmed([record]);
      return { delivered: status === 'delivered', status };
    } catch (err) {
      throw new BadGatewayException(
        `The test event could not be delivered: ${(err as Error).message}`,
      );
    } finally {
      sender.close();
    }
  }

  private async mustFind(id: string, tx?: EntityManager): Promise<SiemIntegrationRow> {
    const row = await this.integrations.findById(id, tx, tx !== undefined);
    if (!row) throw new NotFoundException(`SIEM integration ${id} does not exist`);
    return row;
  }

  private async assertNameFree(tx: EntityManager, name: string): Promise<void> {
    if (await this.integrations.nameTaken(tx, name))
      throw new ConflictException(`A SIEM integration named "${name}" already exists`);
  }
}
