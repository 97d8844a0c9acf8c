import {
  BadRequestException,
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import type { Readable } from 'node:stream';
import { DataSource, QueryRunner } from 'typeorm';
import type { AuditContext } from '../../audit/audit-context';
import { AuditService } from '../../audit/audit.service';
import { MiB } from '../../common/body-parser.middleware';
import { FALSE_POSITIVE_SUPPLIER, SupplierRow, SuppliersRepository } from '../suppliers.repository';
import type { UploadFailureDto, UploadResultDto } from './dto/indicator.dto';
import { rawIndicatorOf, validateEntry } from './indicator-entry';
import { BatchWrite, IndicatorsRepository, UpsertBatch } from './indicators.repository';
import {
  EntryStreamParser,
  JsonArrayParser,
  MalformedBodyError,
  NdjsonParser,
} from './upload-parser';

/** Uploads creating at least this many rows refresh the planner statistics. */
const ANALYZE_AFTER_ROWS = 50_000;

/** docs/api.md §1: indicator uploads may be up to 128 MiB. */
export const UPLOAD_LIMIT_BYTES = 128 * MiB;
/** Entries per upsert statement: large enough to amortise a round trip, small enough to stream. */
export const UPSERT_BATCH_ROWS = 20_000;
/** At most this many failures are listed in a 400 (all of them are listed in a 202). */
const MAX_400_DETAILS = 1_000;

export type UploadFormat = 'json' | 'ndjson';

export interface UploadOutcome {
  status: 200 | 202;
  body: UploadResultDto;
}

/** The body's media type, or a 415 naming what is accepted. */
export function uploadFormatOf(contentType: string | undefined): UploadFormat {
  const [mediaType, ...params] = (contentType ?? '').split(';');
  const media = mediaType.trim().toLowerCase();
  // The body is parsed as UTF-8 bytes: another declared charset would be misread, not decoded.
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"(.*)"$/, '$1');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpException(
      `Unsupported charset "${charset}"; send the upload as UTF-8`,
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    );
  }
  if (media === 'application/json') return 'json';
  if (media === 'application/x-ndjson' || media === 'application/ndjson') return 'ndjson';
  throw new HttpException(
    `Unsupported Content-Type "${contentType ?? ''}"; send application/json (an array) or application/x-ndjson (one object per line)`,
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  );
}

/**
 * Streams an upload into the store: the body is parsed incrementally, each entry validated
 * and normalised, and valid entries are upserted in batches (entries apply in body order, so a
 * later entry of a key wins) — all in ONE transaction, so a malformed body, a disconnect or a
 * crash leaves nothing. The transaction (and with it the single embedded-database lease) is
 * opened only once the first batch is ready; it first locks the supplier row, which
 * serialises uploads to one supplier and keeps the lock order of every indicator writer.
 */
@Injectable()
export class IndicatorUploadService {
  private readonly logger = new Logger(IndicatorUploadService.name);

  constructor(
    private readonly db: DataSource,
    private readonly suppliers: SuppliersRepository,
    private readonly indicators: IndicatorsRepository,
    private readonly audit: AuditService,
  ) {}

  async upload(
    supplierName: string,
    body: Readable & { complete?: boolean },
    format: UploadFormat,
    declaredLength: number | undefined,
    ctx: AuditContext,
  ): Promise<UploadOutcome> {
    if (declaredLength !== undefined && declaredLength > UPLOAD_LIMIT_BYTES) this.tooLarge();
    const supplier = await this.suppliers.findByName(supplierName);
    if (!supplier) throw new NotFoundException(`Supplier "${supplierName}" does not exist`);
    const tags = await this.indicators.tagIdsByName();
    const rules = {
      forbidContext: supplier.name === FALSE_POSITIVE_SUPPLIER && supplier.builtIn,
      tagId: (name: string) => tags.get(name),
    };

    const failed: UploadFailureDto[] = [];
    let batch = new UpsertBatch();
    let valid = 0;
    const onEntry = (raw: unknown, index: number): void => {
      const result = validateEntry(raw, rules);
      if (result.ok) {
        batch.push(result.entry);
        valid++;
      } else {
        failed.push({ index, indicator: rawIndicatorOf(raw), reason: result.reason });
      }
    };
    const parser: EntryStreamParser =
      format === 'json' ? new JsonArrayParser(onEntry) : new NdjsonParser(onEntry);

    let runner: QueryRunner | undefined;
    let locked: SupplierRow | undefined;
    /** The supplier had no indicators when the upload locked it: new keys take a plain INSERT. */
    let fresh = false;
    const seen = new Set<number>();
    let created = 0;
    const begin = async (): Promise<void> => {
      runner = this.db.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      locked = (await this.suppliers.lockById(runner.manager, supplier.id)) ?? undefined;
      if (!locked) throw new NotFoundException(`Supplier "${supplierName}" does not exist`);
      fresh = await this.indicators.isEmpty(runner.manager, supplier.id);
    };
    /** The batch's statements, parameters encoded (CPU work, done while Postgres is busy). */
    const prepare = (rows: UpsertBatch): BatchWrite[] => {
      const retention = locked!.retentionMinutes;
      if (!fresh) return [this.indicators.upsertBatch(supplier.id, retention, rows)];
      // Keys an earlier batch may have written are upserted; the rest are certainly new.
      const again = rows.splitSeen(seen);
      const writes: BatchWrite[] = [];
      if (rows.size > 0) writes.push(this.indicators.insertNew(supplier.id, retention, rows));
      if (again) writes.push(this.indicators.upsertBatch(supplier.id, retention, again));
      return writes;
    };
    const write = async (writes: BatchWrite[]): Promise<void> => {
      for (const w of writes) created += await w(runner!.manager);
    };
    // One batch's statements run while the next batch is parsed and encoded.
    let pending: Promise<void> | undefined;
    const flush = async (): Promise<void> => {
      const rows = batch;
      batch = new UpsertBatch();
      if (!runner) await begin();
      const writes = prepare(rows);
      if (pending) await pending;
      pending = write(writes);
      pending.catch(() => undefined); // awaited later; this only marks it handled meanwhile
    };

    let committed = false;
    try {
      let received = 0;
      // destroyOnReturn: false — on an error the socket must live on to carry the response.
      for await (const chunk of body.iterator({
        destroyOnReturn: false,
      }) as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > UPLOAD_LIMIT_BYTES) this.tooLarge();
        parser.write(chunk);
        if (batch.size >= UPSERT_BATCH_ROWS) await flush();
      }
      if (body.complete === false) {
        throw new BadRequestException('The request body ended early (client disconnected)');
      }
      parser.end();
      if (batch.size > 0) await flush();
      if (pending) await pending;

      const processed = parser.count;
      if (valid === 0) {
        if (processed === 0)
          return { status: 200, body: { processed, created: 0, updated: 0, failed } };
        throw new BadRequestException({
          message: `No entry is valid (${failed.length} failed${failed.length > MAX_400_DETAILS ? `; the first ${MAX_400_DETAILS} are listed` : ''}); nothing was applied`,
          details: failed.slice(0, MAX_400_DETAILS),
        });
      }
      const tx = runner!.manager;
      const supplierRow = locked!;
      // Pre-existing rows touched; none when the supplier was empty (the lock keeps it so).
      const updated = fresh ? 0 : await this.indicators.countUpdatedInTransaction(tx, supplier.id);
      await this.suppliers.addToCount(tx, supplier.id, created);
      const result: UploadResultDto = { processed, created, updated, failed };
      await this.audit.record(tx, ctx, {
        action: 'indicator.upload',
        entityType: 'supplier',
        entityName: supplierRow.name,
        operation: 'update',
        newValue: { processed, created, updated, failed: failed.length },
      });
      await runner!.commitTransaction();
      committed = true;
      // A bulk load changes the table's statistics at once; refresh them now rather than
      // leave search to plans made for the old table until autovacuum gets round to it. The
      // upload has committed: a failure here is logged, never the upload's answer.
      if (created >= ANALYZE_AFTER_ROWS) {
        await runner!
          .query('ANALYZE indicators, indicator_tags')
          .catch((err: unknown) => this.logger.warn({ err }, 'ANALYZE after a bulk upload failed'));
      }
      return { status: failed.length === 0 ? 200 : 202, body: result };
    } catch (e) {
      if (e instanceof MalformedBodyError)
        throw new BadRequestException(`${e.message}; nothing was applied`);
      if (isAborted(e)) {
        throw new BadRequestException(
          'The request body ended early (client disconnected); nothing was applied',
        );
      }
      throw e;
    } finally {
      if (pending) await pending.catch(() => undefined);
      if (runner) {
        if (!committed && runner.isTransactionActive) {
          await runner.rollbackTransaction().catch(() => undefined);
        }
        await runner.release();
      }
    }
  }

  private tooLarge(): never {
    throw new PayloadTooLargeException(
      `The upload is larger than ${UPLOAD_LIMIT_BYTES} bytes (128 MiB); split it; nothing was applied`,
    );
  }
}

function isAborted(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (e instanceof Error && e.message === 'aborted')
  );
}
