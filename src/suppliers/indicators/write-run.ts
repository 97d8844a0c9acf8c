import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { NoValidEntriesError, SupplierNotFoundError } from '../../common/errors/domain-errors';
import { IndicatorKey, keyString, lookupOf } from '../../indicators';
import { requireTenant } from '../../database/tenant-context';
import { KeyAdditions, keyScope } from '../../key-index/search-key-index';
import type { TagsRepository } from '../../tags/tags.repository';
import { SupplierRow, SuppliersRepository } from '../suppliers.repository';
import { EntryRules, rawIndicatorOf, validateEntry } from './indicator-entry';
import type { WriteFailure, WriteRequest, WriteResult } from './write-request';
import { BatchWrite, IndicatorsRepository } from './indicators.repository';
import { UpsertBatch } from './upsert-batch';

/**
 * Entries per write statement: large enough to amortise a round trip, small enough to stream.
 * @internal exported for tests
 */
export const UPSERT_BATCH_ROWS = 20_000;
export interface WriteRunDeps {
  db: DataSource;
  suppliers: SuppliersRepository;
  indicators: IndicatorsRepository;
  tags: TagsRepository;
  record: (tx: EntityManager, result: WriteResult) => Promise<void>;
  /** The keys the run writes: into the search key index and its change feed before COMMIT. */
  additions: KeyAdditions;
}

/**
 * Where a run stands. `collecting`: entries are validated into the batch, no transaction yet
 * (it opens with the first batch, so a slow producer does not hold a connection — on the
 * embedded database, the only one). `open`: the transaction holds the supplier row lock.
 * `done`: committed or rolled back, the connection released.
 */
type RunState =
  | { kind: 'collecting' }
  | {
      kind: 'open';
      runner: QueryRunner;
      supplier: SupplierRow;
      /** The supplier had no rows when locked: new keys take a plain INSERT. */
      fresh: boolean;
      /**
       * A batch's statements still running (the next batch is parsed and encoded meanwhile),
       * settling to their failure if any: settle() throws it, so it never goes unhandled.
       */
      pending: Promise<BatchFailure | undefined> | null;
    }
  | { kind: 'done' };

interface BatchFailure {
  error: unknown;
}

const logger = new Logger('WriteRun');

/**
 * One IndicatorWriter.write: validates entries into batches and writes them in ONE transaction
 * that first locks the supplier row (serialising writers of a supplier, in the lock order of
 * every indicator writer). Entries apply in order, so a later entry of a key wins.
 */
export class WriteRun {
  private state: RunState = { kind: 'collecting' };
  private batch = new UpsertBatch();
  /** Hashes of the keys sent down the plain-INSERT path (see UpsertBatch.splitSeen). */
  private readonly seen = new Set<number>();
  /** Tag ids this transaction has checked and locked, and those found deleted meanwhile. */
  private readonly lockedTags = new Set<string>();
  private readonly goneTags = new Set<string>();
  private processed = 0;
  private valid = 0;
  private created = 0;
  private removed = 0;
  private readonly failed: WriteFailure[] = [];

  constructor(
    private readonly deps: WriteRunDeps,
    private readonly supplierId: string,
    private readonly req: WriteRequest,
    private readonly rules: EntryRules,
  ) {}

  /** Validates one raw entry into the batch (or the failures); true when the batch is full. */
  accept(raw: unknown): boolean {
    const index = this.processed++;
    const result = validateEntry(raw, this.rules);
    if (result.ok) {
      this.batch.push(result.entry);
      this.valid++;
    } else {
      this.failed.push({ index, indicator: rawIndicatorOf(raw), reason: result.reason });
    }
    return this.batch.size >= UPSERT_BATCH_ROWS;
  }

  /** Hands the batch to the database; its statements run while the caller collects more. */
  async flush(): Promise<void> {
    const rows = this.batch;
    this.batch = new UpsertBatch();
    const open = await this.open();
    for (let i = 0; i < rows.size; i++) this.deps.additions.add(rows.type[i], rows.value[i]);
    const tx = open.runner.manager;
    await this.lockTags(tx, rows);
    const writes = this.prepare(open, rows);
    await this.settle();
    open.pending = (async () => {
      for (const w of writes) this.created += await w(tx);
    })().then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
  }

  /** Writes what is left, applies the mode, records the audit entry and commits. */
  async commit(): Promise<WriteResult | null> {
    if (this.batch.size > 0) await this.flush();
    await this.settle();
    if (this.valid === 0 && this.processed > 0) throw new NoValidEntriesError(this.failed);
    const removals = this.req.removals ?? [];
    if (this.state.kind === 'collecting' && this.req.mode === 'upsert' && removals.length === 0) {
      return null; // nothing sent, nothing to remove: no transaction, no audit record
    }
    const open = await this.open();
    const tx = open.runner.manager;
    // After the entries (a producer may learn removals while streaming): a removal wins.
    const keys = removalKeys(removals);
    if (keys.length > 0) {
      this.removed += (await this.deps.indicators.deleteKeys(tx, this.supplierId, keys)).length;
    }
    if (this.req.mode === 'replace' && !open.fresh) {
      this.removed += await this.deps.indicators.deleteUntouched(tx, this.supplierId);
    }
    // Pre-existing rows touched; none when the supplier was empty (the lock keeps it so).
    const updated = open.fresh
      ? 0
      : await this.deps.indicators.countUpdatedInTransaction(tx, this.supplierId);
    await this.deps.suppliers.addToCount(tx, this.supplierId, this.created - this.removed);
    const result: WriteResult = {
      processed: this.processed,
      created: this.created,
      updated,
      removed: this.removed,
      failed: this.failed,
    };
    await this.deps.record(tx, result);
    this.req.signal?.throwIfAborted();
    // Last: the feed row's lock is held until COMMIT (feed rows commit in order).
    await this.deps.additions.commit(tx);
    await open.runner.commitTransaction();
    await this.close();
    return result;
  }

  /** Rolls back unless committed, and releases the connection; safe to call twice. */
  async close(): Promise<void> {
    const state = this.state;
    this.state = { kind: 'done' };
    if (state.kind !== 'open') return;
    const failure = await state.pending;
    if (failure) {
      // Only when another error ends the run first (an abort, a failed parse): that one is
      // thrown, and the rollback below undoes the batch, so this one is noted, not raised.
      logger.debug(
        { err: failure.error },
        'a batch failed after the write had already failed; rolled back with it',
      );
    }
    await rollBack(state.runner);
    await state.runner.release();
  }

  /** The open transaction, opening it (lock the supplier) on first use. */
  private async open(): Promise<Extract<RunState, { kind: 'open' }>> {
    if (this.state.kind === 'open') return this.state;
    if (this.state.kind === 'done') throw new Error('the write has already finished');
    const runner = this.deps.db.createQueryRunner();
    await runner.connect();
    const tx = runner.manager;
    try {
      await runner.startTransaction();
      const supplier = await this.deps.suppliers.lockById(tx, this.supplierId);
      if (!supplier) {
        throw new SupplierNotFoundError(this.req.supplierName);
      }
      // Locked: its sharing, and so the scope its keys hash in, holds until the commit.
      this.deps.additions.rescope(keyScope(requireTenant(), supplier.sharing));
      const fresh = await this.deps.indicators.isEmpty(tx, this.supplierId);
      this.state = { kind: 'open', runner, supplier, fresh, pending: null };
      return this.state;
    } catch (e) {
      await rollBack(runner);
      await runner.release();
      throw e;
    }
  }

  /**
   * Locks the tags the batch assigns (once per transaction and tag), so none can be deleted
   * before the commit; a tag deleted since the entries were validated is dropped from them.
   */
  private async lockTags(tx: EntityManager, rows: UpsertBatch): Promise<void> {
    const unchecked = rows.tagIdsOutside(this.lockedTags);
    if (unchecked.length > 0) {
      await this.settle(); // one statement at a time on the connection
      const alive = new Set(await this.deps.tags.lockForAssignment(tx, unchecked));
      for (const id of unchecked) {
        this.lockedTags.add(id);
        if (!alive.has(id)) this.goneTags.add(id);
      }
    }
    if (this.goneTags.size > 0) rows.dropTagIds(this.goneTags);
  }

  /** The batch's statements, parameters encoded now (CPU work, done while Postgres is busy). */
  private prepare(open: Extract<RunState, { kind: 'open' }>, rows: UpsertBatch): BatchWrite[] {
    const retention = open.supplier.retentionMinutes;
    if (!open.fresh) return [this.deps.indicators.upsertBatch(this.supplierId, retention, rows)];
    // Keys an earlier batch may have written are upserted; the rest are certainly new.
    const again = rows.splitSeen(this.seen);
    const writes: BatchWrite[] = [];
    if (rows.size > 0)
      writes.push(this.deps.indicators.insertNew(this.supplierId, retention, rows));
    if (again) writes.push(this.deps.indicators.upsertBatch(this.supplierId, retention, again));
    return writes;
  }

  /** Waits for the running batch, if any (its failure fails the run). */
  private async settle(): Promise<void> {
    if (this.state.kind !== 'open' || !this.state.pending) return;
    const pending = this.state.pending;
    this.state.pending = null;
    const failure = await pending;
    if (failure) throw failure.error;
  }
}

/**
 * Rolls back what a failed or abandoned run left open. A failing ROLLBACK is logged and not
 * thrown, so the error that ended the run is the one reported; going on is safe because
 * ROLLBACK fails when the connection broke, and then the pool discards the connection and
 * Postgres ends its transaction.
 */
async function rollBack(runner: QueryRunner): Promise<void> {
  if (!runner.isTransactionActive) return;
  try {
    await runner.rollbackTransaction();
  } catch (err) {
    logger.warn({ err }, 'ROLLBACK of a failed write failed; its connection is released broken');
  }
}

/** The valid, distinct keys of a removal list (a value that is no indicator names nothing). */
function removalKeys(removals: WriteRequest['removals'] & object): IndicatorKey[] {
  const keys = new Map<string, IndicatorKey>();
  for (const r of removals) {
    const { key } = lookupOf(r.indicator, r.type);
    if (key) keys.set(keyString(key), key);
  }
  return [...keys.values()];
}
