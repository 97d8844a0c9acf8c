import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { AuditContext } from '../../audit/audit-context';
import { AuditService } from '../../audit/audit.service';
import { SupplierNotFoundError, TagNotFoundError } from '../../common/errors/domain-errors';
import { asLongWork } from '../../database/database-work';
import { keyString, lookupOf, ValueLookup } from '../../indicators';
import { SearchKeyIndex } from '../../key-index/search-key-index';
import { TagsRepository } from '../../tags/tags.repository';
import { FALSE_POSITIVE_SUPPLIER } from '../built-in-suppliers';
import { SupplierRow, SuppliersRepository } from '../suppliers.repository';
import { requireTenant } from '../../database/tenant-context';
import { IndicatorsRepository, SWEEP_BATCH } from './indicators.repository';
import type { WriteRequest, WriteResult } from './write-request';
import { WriteRun } from './write-run';

/** Writes creating at least this many rows refresh the planner statistics. */
const ANALYZE_AFTER_ROWS = 50_000;

export type { WriteRequest, WriteResult } from './write-request';

/** A committed write that created indicators: what retro-scan checks (created at or after `since`). */
export interface CommittedWrite {
  /** The tenant the write ran in: work that follows it runs there too. */
  tenant: string;
  supplierId: string;
  since: Date;
  created: number;
}

export interface RemoveResult {
  deleted: number;
  /** The raw values that named no indicator of the supplier. */
  notFound: string[];
}

/**
 * The one writer of the `indicators` table (and of `indicator_tags`): uploads, deletes, tag
 * assignments, retention changes, feeds and the expiry sweeper all go through it. Every write locks the supplier row first, keeps `indicator_count` true
 * and (except the sweeper's housekeeping) leaves an audit record in the same transaction.
 */
@Injectable()
export class IndicatorWriter {
  private readonly logger = new Logger(IndicatorWriter.name);
  private readonly committedListeners: Array<(write: CommittedWrite) => void> = [];

  constructor(
    private readonly db: DataSource,
    private readonly suppliers: SuppliersRepository,
    private readonly indicators: IndicatorsRepository,
    private readonly tags: TagsRepository,
    private readonly audit: AuditService,
    private readonly keyIndex: SearchKeyIndex,
  ) {}

  /**
   * Validates and writes the entries in ONE transaction: a thrown error, an abort or a crash
   * leaves nothing, and readers see the old set until the new one commits. Throws
   * NoValidEntriesError when entries came but none is valid. Entries that fail
   * validation are listed in `failed`; the rest apply.
   */
  write(req: WriteRequest): Promise<WriteResult> {
    // An upload's statements may take long: they get the long database timeouts.
    return asLongWork(() => this.writeNow(req));
  }

  private async writeNow(req: WriteRequest): Promise<WriteResult> {
    const { signal } = req;
    signal?.throwIfAborted();
    // Rows get the transaction's now(), which is after this (a second's margin for clock skew).
    const since = new Date(Date.now() - 1_000);
    const supplier = await this.suppliers.findByName(req.supplierName);
    if (!supplier) throw new SupplierNotFoundError(req.supplierName);
    const run = await this.runFor(supplier, req);
    try {
      for await (const raw of req.entries) {
        signal?.throwIfAborted();
        if (run.accept(raw)) await run.flush();
      }
      signal?.throwIfAborted();
      const result = (await run.commit()) ?? {
        processed: 0,
        created: 0,
        updated: 0,
        removed: 0,
        failed: [],
      };
      if (result.created >= ANALYZE_AFTER_ROWS) await this.analyze();
      if (result.created > 0) {
        for (const listener of this.committedListeners)
          listener({
            tenant: requireTenant(),
            supplierId: supplier.id,
            since,
            created: result.created,
          });
      }
      return result;
    } finally {
      await run.close();
    }
  }

  /** The write's run: its collaborators, the supplier's entry rules, its audit record. */
  private async runFor(supplier: SupplierRow, req: WriteRequest): Promise<WriteRun> {
    const tags = await this.tags.idsByName();
    return new WriteRun(
      {
        db: this.db,
        suppliers: this.suppliers,
        indicators: this.indicators,
        tags: this.tags,
        additions: this.keyIndex.additions(supplier.sharing),
        record: async (tx, r) => {
          await this.audit.record(tx, req.ctx, {
            action: req.audit.action,
            entityType: 'supplier',
            entityName: supplier.name,
            operation: 'update',
            newValue: {
              processed: r.processed,
              created: r.created,
              updated: r.updated,
              ...(req.mode === 'replace' || req.removals !== undefined
                ? { removed: r.removed }
                : {}),
              failed: r.failed.length,
              ...req.audit.details,
            },
          });
        },
      },
      supplier.id,
      req,
      {
        forbidContext: supplier.name === FALSE_POSITIVE_SUPPLIER && supplier.builtIn,
        tagId: (name) => tags.get(name),
        ownContextFields: req.ownContextFields,
      },
    );
  }

  /**
   * Calls `listener` after every committed write (upload, feed run) that created indicators.
   * It runs synchronously, so it should only start its own work.
   */
  onCommitted(listener: (write: CommittedWrite) => void): void {
    this.committedListeners.push(listener);
  }

  /** Deletes the named indicators of a supplier (the DELETE endpoint), audited. */
  async remove(
    supplierName: string,
    lookups: ValueLookup[],
    ctx: AuditContext,
  ): Promise<RemoveResult> {
    return this.db.transaction(async (tx) => {
      const supplier = await this.suppliers.findByName(supplierName, tx, true);
      if (!supplier) throw new SupplierNotFoundError(supplierName);
      const keys = lookups.flatMap((l) => (l.key ? [l.key] : []));
      const deleted =
        keys.length > 0 ? await this.indicators.deleteKeys(tx, supplier.id, keys) : [];
      const gone = new Set(deleted.map(keyString));
      const notFound = lookups
        .filter((l) => !l.key || !gone.has(keyString(l.key)))
        .map((l) => l.raw);
      await this.suppliers.addToCount(tx, supplier.id, -deleted.length);
      await this.audit.record(tx, ctx, {
        action: 'indicator.delete',
        entityType: 'supplier',
        entityName: supplier.name,
        operation: 'delete',
        newValue: { requested: lookups.length, deleted: deleted.length, notFound: notFound.length },
      });
      return { deleted: deleted.length, notFound };
    });
  }

  /**
   * Adds (`assign`) or removes a tag on a supplier's indicators named by value, audited as a
   * change of the tag. TagNotFoundError / SupplierNotFoundError when either does not exist.
   */
  async changeTag(
    tagName: string,
    supplierName: string,
    values: string[],
    assign: boolean,
    ctx: AuditContext,
  ): Promise<{ updated: number; notFound: string[] }> {
    const lookups = values.map((v) => lookupOf(v));
    return this.db.transaction(async (tx) => {
      const tag = await this.tags.findByName(tagName, tx);
      if (!tag) throw new TagNotFoundError(tagName);
      const supplier = await this.suppliers.findByName(supplierName, tx);
      if (!supplier) throw new SupplierNotFoundError(supplierName);
      const keys = lookups.flatMap((l) => (l.key ? [l.key] : []));
      const found = keys.length > 0 ? await this.indicators.findIds(tx, supplier.id, keys) : [];
      const byKey = new Map(found.map((f) => [keyString(f), f.id]));
      const ids = [...new Set(byKey.values())];
      if (ids.length > 0) {
        if (assign) await this.indicators.assignTag(tx, tag.id, ids);
        else await this.indicators.unassignTag(tx, tag.id, ids);
      }
      const notFound = lookups
        .filter((l) => !l.key || !byKey.has(keyString(l.key)))
        .map((l) => l.raw);
      await this.audit.record(tx, ctx, {
        action: assign ? 'tag.assign' : 'tag.unassign',
        entityType: 'tag',
        entityName: tag.name,
        operation: 'update',
        newValue: {
          supplier: supplier.name,
          requested: lookups.length,
          updated: ids.length,
          notFound: notFound.length,
        },
      });
      return { updated: ids.length, notFound };
    });
  }

  /**
   * Deletes up to SWEEP_BATCH expired indicators of a supplier in a short transaction of its
   * own; -1 when another writer holds the supplier (it is swept next time). Not audited:
   * expiry is the retention the supplier was given, not an action.
   */
  deleteExpiredBatch(supplierId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      if (!(await this.suppliers.tryLockById(tx, supplierId))) return -1;
      const deleted = await this.indicators.deleteExpired(tx, supplierId);
      await this.suppliers.addToCount(tx, supplierId, -deleted);
      return deleted;
    });
  }

  /**
   * After a supplier's retention changed, in the transaction that changed it (which holds the
   * supplier row lock): recomputes its indicators' effective expiry.
   */
  retentionChanged(tx: EntityManager, supplierId: string, retentionMinutes: number): Promise<void> {
    return this.indicators.recomputeExpiry(tx, supplierId, retentionMinutes);
  }

  /** Whether the supplier has expired indicators left to sweep. */
  hasExpired(supplierId: string): Promise<boolean> {
    return this.indicators.hasExpired(supplierId);
  }

  /**
   * A bulk load changes the table's statistics at once; refresh them now rather than leave
   * search to plans made for the old table until autovacuum gets round to it. The write has
   * committed: a failure here is logged, never the write's answer.
   */
  private async analyze(): Promise<void> {
    await this.db
      .query('ANALYZE indicators, indicator_tags')
      .catch((err: unknown) => this.logger.warn({ err }, 'ANALYZE after a bulk write failed'));
  }
}

export { SWEEP_BATCH };
