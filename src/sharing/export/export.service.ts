import { Injectable } from '@nestjs/common';
import { SupplierNotFoundError } from '../../common/errors/domain-errors';
import { CopyOut } from '../copy-out';
import { CHUNK_CHARS, keysetBatches, type Body } from '../stream-body';
import { SharingRepository } from '../sharing.repository';
import { EXPORT_FORMATTERS, stixObjects, type ExportFormat } from './export-formats';

/**
 * Rows per keyset batch: big enough to amortise a query, small enough to stay constant memory.
 * @internal exported for tests
 */
export const EXPORT_BATCH = 5_000;

export interface PreparedExport {
  mediaType: string;
  fileName: string;
  body: Body;
}

/**
 * Exports of a supplier's unexpired indicators (docs/api.md §10), produced batch by batch from
 * keyset queries on (supplier_id, id) rather than one server-side cursor: the same SQL on
 * Postgres and the embedded PGlite (which has no cursor streaming and one backend that a cursor
 * would hold for the whole download), no connection or snapshot held while a slow client reads,
 * and memory bounded by two batches. The export is therefore not one snapshot: an indicator
 * written during a long download may or may not be in it (each row appears at most once).
 *
 * On a Postgres server every format is the exception: Postgres writes the records and COPY
 * streams them (CopyOut), one statement on a connection of its own, so Node only forwards
 * bytes (NDJSON, CSV) or completes each STIX object from its record (the id, a UUIDv5, needs
 * SHA-1, which Postgres lacks) in the chunk it arrived in. Formatting rows in Node cost three
 * quarters of the export's time, and parsed rows held across the awaits of a batch were
 * promoted to V8's old generation, where their garbage grew the heap (and RSS) by ~110 MiB at
 * 200k rows and ~180 MiB at 1M before it was collected. The keyset paths (the embedded
 * database, or no COPY connection free) read the same records in batches.
 */
@Injectable()
export class ExportService {
  /** Exports through COPY when the database is a Postgres server (off: the keyset paths). */
  viaCopy = true;

  constructor(
    private readonly repo: SharingRepository,
    private readonly copy: CopyOut,
  ) {}

  async prepare(name: string, format: ExportFormat): Promise<PreparedExport> {
    const supplier = await this.repo.findSupplier(name);
    if (!supplier) throw new SupplierNotFoundError(name);
    const formatter = EXPORT_FORMATTERS[format]();
    const fileName = `${supplier.name}-indicators.${formatter.extension}`;
    const repo = this.repo;
    const id = supplier.id;
    // The rows of the body, without head and tail (both empty for NDJSON; CSV has a header):
    // records Postgres writes, one a line, in keyset batches.
    async function* rowsBody(): AsyncGenerator<string> {
      const batch = (after: string | null) =>
        repo.exportBatch(formatter.rows, id, supplier!.confidence, after, EXPORT_BATCH);
      for await (const rows of keysetBatches(batch, (r) => r.id, EXPORT_BATCH)) {
        let out = '';
        for (const r of rows) {
          out += r.line + '\n';
          if (out.length >= CHUNK_CHARS) {
            yield out;
            out = '';
          }
        }
        yield out;
      }
    }
    const select = this.repo.exportSelect(formatter.rows, id, supplier.confidence);
    // The keyset rows when no COPY connection is free.
    const rows: Body =
      this.viaCopy && this.copy.available ? this.copy.lines(select, rowsBody) : rowsBody();
    async function* body(): AsyncGenerator<string | Buffer> {
      const head = formatter.head();
      if (head) yield head;
      if (formatter.rows === 'stix-records') yield* stixObjects(id, rows);
      else yield* rows;
      const tail = formatter.tail();
      if (tail) yield tail;
    }
    return {
      mediaType: formatter.mediaType,
      fileName,
      body: Object.assign(body(), { abort: rows.abort }),
    };
  }
}
