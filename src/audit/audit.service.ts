import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { decodeCursor, Page, toPage } from '../common/pagination';
import { AppConfig } from '../config/app-config';
import {
  currentTenant,
  DEFAULT_TENANT_ID,
  inTenant,
  requireTenant,
} from '../database/tenant-context';
import {
  anchorMac,
  AuditRecord,
  chainHash,
  ChainAnchor,
  GENESIS_HASH,
  keyedChainHash,
  Operation,
  Outcome,
} from './audit-chain';
import { loadAuditChainKey } from './audit-chain-key';
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
 *
 * Each record's hash is an HMAC under AUDIT_CHAIN_KEY over its predecessor's hash and itself
 * (docs/security.md: what that proves against a database superuser, and what it cannot).
 */
@Injectable()
export class AuditService implements OnModuleInit {
  private readonly logger = new Logger(AuditService.name);
  private readonly key: Buffer;
  /** Set once the anchor is known to be committed; until then each append makes sure of it. */
  /** Tenants whose chain this instance knows to be anchored. */
  private readonly anchored = new Set<string>();

  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditRepository,
    @Inject(AppConfig) config: AppConfig,
  ) {
    const { key, source } = loadAuditChainKey(config);
    this.key = key;
    if (source === 'generated') {
      this.logger.warn(
        'Generated the audit chain key in DATA_DIR/audit-chain.key: set AUDIT_CHAIN_KEY on every instance that shares this database',
      );
    }
  }

  /**
   * Anchors the keyed chain before anything is appended: on a database written before the
   * chain was keyed, the records so far stay verifiable unkeyed. Warns loudly when the anchor
   * was written under another key: this instance's records would break verification.
   */
  async onModuleInit(): Promise<void> {
    const anchor = await inTenant(DEFAULT_TENANT_ID, () =>
      this.db.transaction(async (tx) => {
        const existing = await this.audit.findAnchor(tx);
        if (existing) return existing;
        return this.anchor(tx, await this.audit.lockHead(tx));
      }),
    );
    this.anchored.add(DEFAULT_TENANT_ID);
    if (anchorMac(this.key, anchor.keyedFrom, anchor.legacyHead) !== anchor.mac) {
      this.logger.error(
        'The audit log was anchored under a different audit chain key: records this instance writes will not verify. Give every instance the same AUDIT_CHAIN_KEY.',
      );
    }
  }

  /**
   * Appends one record within `tx` (which must be a transaction). Call it as the last step
   * of the transaction: it holds the append lock until commit.
   */
  async record(tx: EntityManager, ctx: AuditContext, entry: AuditEntry): Promise<AuditRecord> {
    if (!tx.queryRunner?.isTransactionActive) {
      throw new Error(`audit.record(${entry.action}) needs the manager of an open transaction`);
    }
    const record = await this.append(tx, ctx, entry);
    // A parent's principal acting here: its own tenant's audit holds the record too.
    const home = ctx.actorHome;
    if (home && home.id !== requireTenant()) {
      await inTenant(home.id, () => this.append(tx, ctx, entry));
    }
    return record;
  }

  /** Appends to the chain of the tenant the statement runs in, under its append lock. */
  private async append(
    tx: EntityManager,
    ctx: AuditContext,
    entry: AuditEntry,
  ): Promise<AuditRecord> {
    const tenant = requireTenant();
    const head = await this.audit.lockHead(tx);
    if (!this.anchored.has(tenant)) {
      await this.anchor(tx, head);
      this.anchored.add(tenant);
    }
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
      ...(ctx.actorHome ? { actorTenant: ctx.actorHome.name } : {}),
    };
    const record = {
      ...unhashed,
      hash: keyedChainHash(this.key, head.hash ?? GENESIS_HASH, unhashed),
    };
    await this.audit.insert(tx, record);
    return record;
  }

  /**
   * A security event (auth failure, lockout, denial) in its own small transaction, in `tenant`
   * (the principal's, when it is known) or the request's. Never
   * throws: the request is refused either way; a failure to audit is logged.
   */
  async recordEvent(ctx: AuditContext, entry: AuditEntry, tenant?: string): Promise<void> {
    try {
      // Before authentication decided a tenant, the event is the platform operator's.
      const where = tenant ?? currentTenant() ?? DEFAULT_TENANT_ID;
      await inTenant(where, () => this.db.transaction((tx) => this.record(tx, ctx, entry)));
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

  /**
   * Walks the chain in keyset batches: gapless sequences from 1, each hash over its
   * predecessor — keyed from the anchor's `keyedFrom` on, unkeyed before it. An anchor that
   * is missing (while records exist) or not MACed with our key breaks the chain at 1: the
   * boundary between keyed and unkeyed records could have been moved.
   */
  async verify(): Promise<VerifyResult> {
    const anchor = await this.audit.findAnchor();
    const genuine =
      anchor !== null && anchorMac(this.key, anchor.keyedFrom, anchor.legacyHead) === anchor.mac;
    const keyedFrom = genuine ? anchor.keyedFrom : 1;
    let previous = GENESIS_HASH;
    let expected = 1;
    for (;;) {
      const batch = await this.audit.batchAfter(expected - 1, VERIFY_BATCH);
      if (!genuine && batch.length > 0) return { valid: false, brokenAt: 1 };
      for (const { hash, ...rest } of batch) {
        const link =
          rest.sequence < keyedFrom
            ? chainHash(previous, rest)
            : keyedChainHash(this.key, previous, rest);
        const boundary = rest.sequence === keyedFrom - 1 && hash !== anchor?.legacyHead;
        if (rest.sequence !== expected || link !== hash || boundary) {
          return { valid: false, brokenAt: expected };
        }
        previous = hash;
        expected++;
      }
      if (batch.length < VERIFY_BATCH) return { valid: true, checked: expected - 1 };
    }
  }

  /** Writes the anchor at the current head; `tx` holds the append lock (lockHead). */
  private async anchor(
    tx: EntityManager,
    head: { sequence: number; hash: string | null },
  ): Promise<ChainAnchor> {
    const existing = await this.audit.findAnchor(tx);
    if (existing) return existing;
    const keyedFrom = head.sequence + 1;
    const legacyHead = head.hash ?? GENESIS_HASH;
    const anchor = { keyedFrom, legacyHead, mac: anchorMac(this.key, keyedFrom, legacyHead) };
    await this.audit.insertAnchor(tx, anchor);
    return anchor;
  }
}
