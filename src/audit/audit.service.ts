import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { AuditRecord, chainHash, GENESIS_HASH, Operation, Outcome } from './audit-chain';
import type { AuditContext } from './audit-context';
import { AuditFilter, AuditRepository } from './audit.repository';
import { redact } from './redact';

/** What a feature says about its change; the actor comes from the AuditContext. */
export interface AuditEntry {
  /** `<entity>.<verb>`, e.g. `supplier.create`, `api_client.rotate_secret`. */
  action: string;
  entityType: string;
  entityName: string | null;
  operation: Operation;
  /** Default `success`. */
  outcome?: Outcome;
  /** Before/after state; redacted (keys matching /pass|secret|token|hash/i) before storing. */
  oldValue?: unknown;
  newValue?: unknown;
}

export type VerifyResult = { valid: true; checked: number } | { valid: false; brokenAt: number };

const VERIFY_BATCH = 5_000;

/**
 * The audit log (docs/api.md §6). `record` appends inside the caller's transaction, so the record
 * commits or rolls back with the change; `recordEvent` writes a security event on its own.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditRepository,
  ) {}

  /**
   * Appends one record within `tx` (which must be a transaction). Call it as the last step
   * of the transaction: it holds the append lock until commit.
   */
  async record(tx: EntityManager, ctx: AuditContext, entry: AuditEntry): Promise<AuditRecord> {
    if (!tx.queryRunner?.isTransactionActive) {
      throw new Error(`audit.record(${entry.action}) needs the manager of an open transaction`);
    }
    const head = await this.audit.lockHead(tx);
    const unhashed: Omit<AuditRecord, 'hash'> = {
      id: randomUUID(),
      sequence: head.sequence + 1,
      timestamp: head.now.toISOString(),
      actorType: ctx.actorType,
      actorId: ctx.actorId,
      actorName: ctx.actorName,
      action: entry.action,
      entityType: entry.entityType,
      entityName: entry.entityName,
      operation: entry.operation,
      outcome: entry.outcome ?? 'success',
      oldValue: redact(entry.oldValue ?? null),
      newValue: redact(entry.newValue ?? null),
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      requestId: ctx.requestId,
    };
    const record = { ...unhashed, hash: chainHash(head.hash ?? GENESIS_HASH, unhashed) };
    await this.audit.insert(tx, record);
    return record;
  }

  /**
   * A security event (auth failure, lockout, denial) in its own small transaction. Never
   * throws: the request is refused either way; a failure to audit is logged.
   */
  async recordEvent(ctx: AuditContext, entry: AuditEntry): Promise<void> {
    try {
      await this.db.transaction((tx) => this.record(tx, ctx, entry));
    } catch (err) {
      this.logger.error({ err, action: entry.action }, 'could not write a security audit record');
    }
  }

  async list(filter: AuditFilter, limit: number, cursor?: string): Promise<Page<AuditRecord>> {
    const after = decodeCursor(cursor, ['int']);
    const rows = await this.audit.listBefore(filter, after ? Number(after[0]) : null, limit + 1);
    return toPage(
      rows,
      limit,
      (r) => [r.sequence],
      (r) => r,
    );
  }

  /** Walks the chain in keyset batches: gapless sequences from 1, each hash over its predecessor. */
  async verify(): Promise<VerifyResult> {
    let previous = GENESIS_HASH;
    let expected = 1;
    for (;;) {
      const batch = await this.audit.batchAfter(expected - 1, VERIFY_BATCH);
      for (const { hash, ...rest } of batch) {
        if (rest.sequence !== expected || chainHash(previous, rest) !== hash) {
          return { valid: false, brokenAt: expected };
        }
        previous = hash;
        expected++;
      }
      if (batch.length < VERIFY_BATCH) return { valid: true, checked: expected - 1 };
    }
  }
}
