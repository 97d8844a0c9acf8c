import { X509Certificate } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import {
  BuiltInImmutableError,
  FeedNotFoundError,
  FeedRunningError,
  SupplierNotFoundError,
  ValidationError,
} from '../common/errors/domain-errors';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { SupplierRow, SuppliersRepository } from '../suppliers/suppliers.repository';
import { FeedCsvDto, FeedDto, FeedRunDto, FeedSummaryDto, PutFeedDto } from './dto/feed.dto';
import { FeedCredentials, FeedSettings, MERGE_ONLY } from './feed-config';
import { FeedRow, FeedsRepository } from './feeds.repository';
import { CsvMapping, DEFAULT_CSV } from './parsers/csv-feed';

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

/** The feed as the API shows it: credentials only as `configured`. */
function toFeedDto(row: FeedRow): FeedDto {
  return {
    url: row.url,
    format: row.format,
    mode: row.mode,
    intervalMinutes: row.intervalMinutes,
    enabled: row.enabled,
    auth: { type: row.authType, configured: row.authType !== 'none' && row.credentials !== null },
    ...(row.csv ? { csv: row.csv } : {}),
    ...(row.taxii ? { taxii: row.taxii } : {}),
    tlsVerify: row.tlsVerify,
    caCertificate: row.caCertificate,
    state: row.running ? 'running' : 'idle',
    lastRunAt: iso(row.lastRunAt),
    lastSuccessAt: iso(row.lastSuccessAt),
    lastOutcome: row.lastOutcome,
    lastError: row.lastError,
    lastCounts: row.lastCounts,
    nextRunAt: row.enabled || row.running ? iso(row.nextRunAt) : null,
  };
}

const HEADER_TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** Headers a feed's own credentials may not replace: the fetch sets them. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'user-agent',
  'accept',
  'if-none-match',
  'if-modified-since',
  'content-length',
  'transfer-encoding',
  'connection',
]);

function bad(message: string): never {
  throw new ValidationError(message);
}

/** The write-only credentials of `auth`; the stored ones when only the same type is sent again. */
function credentialsOf(dto: PutFeedDto, existing: FeedRow | null): FeedCredentials | null {
  const auth = dto.auth;
  if (!auth || auth.type === 'none') return null;
  const given = [auth.username, auth.password, auth.token, auth.headerName, auth.headerValue].some(
    (v) => v !== undefined,
  );
  if (!given && existing?.authType === auth.type && existing.credentials) {
    return existing.credentials;
  }
  switch (auth.type) {
    case 'basic':
      if (auth.username === undefined || auth.password === undefined) {
        bad('auth.username and auth.password are required for auth.type "basic"');
      }
      if (auth.username.includes(':')) bad('auth.username may not contain ":"');
      return { username: auth.username, password: auth.password };
    case 'bearer':
      if (!auth.token) bad('auth.token is required for auth.type "bearer"');
      return { token: auth.token };
    case 'header':
      if (!auth.headerName || auth.headerValue === undefined) {
        bad('auth.headerName and auth.headerValue are required for auth.type "header"');
      }
      if (!HEADER_TOKEN.test(auth.headerName))
        bad('auth.headerName is not a valid HTTP header name');
      if (RESERVED_HEADERS.has(auth.headerName.toLowerCase())) {
        bad(`auth.headerName may not be ${auth.headerName}`);
      }
      if (/[\r\n\0]/.test(auth.headerValue)) bad('auth.headerValue may not contain line breaks');
      return { headerName: auth.headerName, headerValue: auth.headerValue };
  }
}

/** Validates what the DTO cannot express alone; every problem is a 400 naming the field. */
function settingsOf(dto: PutFeedDto, existing: FeedRow | null): FeedSettings {
  const url = feedUrl(dto.url);
  const mergeOnly = MERGE_ONLY.has(dto.format);
  checkFormatOptions(dto, mergeOnly);
  return {
    url: url.toString(),
    format: dto.format,
    mode: mergeOnly ? 'merge' : (dto.mode ?? 'replace'),
    intervalMinutes: dto.intervalMinutes ?? 60,
    enabled: dto.enabled ?? true,
    authType: dto.auth?.type ?? 'none',
    credentials: credentialsOf(dto, existing),
    csv: dto.format === 'csv' ? csvSettings(dto.csv ?? {}) : null,
    taxii: dto.taxii ? { collectionId: dto.taxii.collectionId } : null,
    tlsVerify: dto.tlsVerify ?? true,
    caCertificate: caCertificateOf(dto.caCertificate),
  };
}

function feedUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    bad('url must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    bad(`url scheme "${url.protocol.replace(/:$/, '')}" is not allowed: use http or https`);
  }
  if (url.username || url.password) {
    bad('url may not carry credentials: use auth');
  }
  return url;
}

/** The mode and the per-format option blocks must fit the format. */
function checkFormatOptions(dto: PutFeedDto, mergeOnly: boolean): void {
  if (mergeOnly && dto.mode === 'replace') {
    bad(`mode "replace" is not available for ${dto.format} feeds (merge only)`);
  }
  if (dto.csv && dto.format !== 'csv')
    bad(`csv applies only to csv feeds (format is ${dto.format})`);
  if (dto.taxii && dto.format !== 'taxii21') {
    bad(`taxii applies only to taxii21 feeds (format is ${dto.format})`);
  }
  if (dto.format === 'taxii21' && !dto.taxii)
    bad('taxii.collectionId is required for taxii21 feeds');
}

/** The defaults with what was given; without a header row, columns are named by index only. */
function csvSettings(given: FeedCsvDto): CsvMapping {
  const csv: CsvMapping = {
    ...DEFAULT_CSV,
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined && v !== null)),
  };
  if (!csv.header) {
    const named: Array<[string, unknown]> = [
      ['csv.valueColumn', csv.valueColumn],
      ['csv.typeColumn', csv.typeColumn],
      ['csv.tagsColumn', csv.tagsColumn],
      ...Object.entries(csv.contextColumns ?? {}).map(([k, v]): [string, unknown] => [
        `csv.contextColumns.${k}`,
        v,
      ]),
    ];
    for (const [field, col] of named) {
      if (typeof col === 'string') {
        bad(`${field} names column "${col}" but csv.header is false: give a 0-based index`);
      }
    }
  }
  if (/["\r\n]/.test(csv.delimiter)) bad('csv.delimiter may not be a quote or a line break');
  return csv;
}

function caCertificateOf(pem: string | null | undefined): string | null {
  if (pem === undefined || pem === null) return null;
  try {
    new X509Certificate(pem);
  } catch {
    bad('caCertificate is not a PEM certificate');
  }
  return pem;
}

/** What a config audit record holds: the configuration as shown, never a credential. */
function auditView(dto: FeedDto): Record<string, unknown> {
  return {
    url: dto.url,
    format: dto.format,
    mode: dto.mode,
    intervalMinutes: dto.intervalMinutes,
    enabled: dto.enabled,
    auth: dto.auth,
    csv: dto.csv,
    taxii: dto.taxii,
    tlsVerify: dto.tlsVerify,
    caCertificate: dto.caCertificate === null ? null : 'configured',
  };
}

/** A supplier's feed (docs/api.md §9): configuration, state, run-now and run history. */
@Injectable()
export class FeedsService {
  constructor(
    private readonly db: DataSource,
    private readonly feeds: FeedsRepository,
    private readonly suppliers: SuppliersRepository,
    private readonly audit: AuditService,
  ) {}

  private async supplier(name: string, tx?: EntityManager): Promise<SupplierRow> {
    const row = await this.suppliers.findByName(name, tx);
    if (!row) throw new SupplierNotFoundError(name);
    return row;
  }

  private async feedOf(name: string): Promise<FeedRow> {
    const supplier = await this.supplier(name);
    const feed = await this.feeds.find(supplier.id);
    if (!feed) throw new FeedNotFoundError(supplier.name);
    return feed;
  }

  /** Every feed of the tenant, with its supplier's name: one page. */
  async list(limit: number, cursor?: string): Promise<Page<FeedSummaryDto>> {
    const after = decodeCursor(cursor, ['text']);
    const rows = await this.feeds.listAfter(after ? String(after[0]) : null, limit + 1);
    return toPage(
      rows,
      limit,
      (r) => [r.supplierName],
      (r) => ({ supplier: r.supplierName, ...toFeedDto(r) }),
    );
  }

  async get(name: string): Promise<FeedDto> {
    return toFeedDto(await this.feedOf(name));
  }

  async put(name: string, dto: PutFeedDto, ctx: AuditContext): Promise<FeedDto> {
    return this.db.transaction(async (tx) => {
      const supplier = await this.supplier(name, tx);
      if (supplier.builtIn) {
        throw new BuiltInImmutableError(
          `Supplier "${supplier.name}" is built in and cannot have a feed`,
        );
      }
      const existing = await this.feeds.find(supplier.id, tx, true);
      await this.feeds.upsert(tx, supplier.id, settingsOf(dto, existing));
      const after = toFeedDto((await this.feeds.find(supplier.id, tx))!);
      await this.audit.record(tx, ctx, {
        action: existing ? 'feed.update' : 'feed.create',
        entityType: 'feed',
        entityName: supplier.name,
        operation: existing ? 'update' : 'create',
        oldValue: existing ? auditView(toFeedDto(existing)) : undefined,
        newValue: auditView(after),
      });
      return after;
    });
  }

  async delete(name: string, ctx: AuditContext): Promise<void> {
    await this.db.transaction(async (tx) => {
      const supplier = await this.supplier(name, tx);
      const existing = await this.feeds.find(supplier.id, tx, true);
      if (!existing) throw new FeedNotFoundError(supplier.name);
      await this.feeds.delete(tx, supplier.id);
      await this.audit.record(tx, ctx, {
        action: 'feed.delete',
        entityType: 'feed',
        entityName: supplier.name,
        operation: 'delete',
        oldValue: auditView(toFeedDto(existing)),
      });
    });
  }

  /** Queues a run now; 409 while one is running. */
  async requestRun(name: string): Promise<void> {
    const feed = await this.feedOf(name);
    if (!(await this.feeds.requestRun(feed.supplierId))) {
      throw new FeedRunningError(feed.supplierName);
    }
  }

  async runs(name: string, limit: number, cursor?: string): Promise<Page<FeedRunDto>> {
    const feed = await this.feedOf(name);
    const after = decodeCursor(cursor, ['uuid']);
    const rows = await this.feeds.listRuns(
      feed.supplierId,
      after ? String(after[0]) : null,
      limit + 1,
    );
    return toPage(
      rows,
      limit,
      (r) => [r.id],
      (r) => ({
        id: r.id,
        startedAt: new Date(r.startedAt).toISOString(),
        finishedAt: new Date(r.finishedAt).toISOString(),
        outcome: r.outcome,
        error: r.error,
        counts: r.counts,
        rejectedSample: r.rejectedSample,
      }),
    );
  }
}
