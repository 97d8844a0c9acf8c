import type { AuditContext } from '../../audit/audit-context';
import type { EntryFailure } from '../../common/errors/domain-errors';
import type { IndicatorType } from '../../indicators';

/** What IndicatorWriter.write takes and answers (its own file: WriteRun uses them too). */

export interface WriteRequest {
  supplierName: string;
  /** Raw entries, the same shape and validation as an upload entry ({indicator, type?, context?, tags?, confidence?, firstSeen?, lastSeen?, expiresAt?}). */
  entries: AsyncIterable<unknown>;
  /** 'upsert' (upload / merge feed) or 'replace' (after all entries: every other indicator of the supplier is removed, same transaction; a replace with no entries at all empties the supplier, one whose entries are all invalid is refused). */
  mode: 'upsert' | 'replace';
  /** Keys to delete in the same transaction (merge feeds: revoked STIX objects, deleted MISP attributes). Read after the last entry, so a producer may fill the array while streaming; applied after the entries, so a removal wins over an entry of the same key. */
  removals?: Array<{ indicator: string; type?: IndicatorType }>;
  /** Aborting rolls the whole write back (feed timeout, SIGTERM); nothing is applied. */
  signal?: AbortSignal;
  /**
   * Context field names the writer's caller sets itself (a feed importer's `stixId`,
   * `mispEvent`), accepted beside the lowercase names clients may send.
   */
  ownContextFields?: ReadonlySet<string>;
  ctx: AuditContext;
  /** Audit action and extra newValue fields: 'indicator.upload' for uploads, 'feed.run' for feeds. */
  audit: { action: string; details?: Record<string, unknown> };
}

/** A rejected entry; NoValidEntriesError carries them as they are. */
export type WriteFailure = EntryFailure;

export interface WriteResult {
  processed: number;
  created: number;
  updated: number;
  removed: number;
  failed: WriteFailure[];
}
