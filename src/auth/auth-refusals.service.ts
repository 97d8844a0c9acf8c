import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PeriodicSweep } from '../common/periodic-sweep';
import { DataSource } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { DEFAULT_TENANT_ID, inTenant } from '../database/tenant-context';
import { AuthRefusalsRepository, RefusalKind } from './auth-refusals.repository';

const FLUSH_INTERVAL_MS = 15_000;
const FLUSH_BATCH = 500;

/**
 * Audits requests refused during a lockout and requests with a malformed Authorization header
 * (docs/api.md §6) without letting their rate set the audit log's: each is counted per source
 * IP, kind and minute in Postgres, and each closed minute becomes one `auth.refused` record
 * with its count, written by whichever instance takes it first (within ~15 s of the minute's
 * end). A restart loses no counts: they wait in the table.
 */
@Injectable()
export class AuthRefusalsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AuthRefusalsService.name);
  private readonly flusher = new PeriodicSweep(
    () => this.flush(),
    (err: unknown) => this.logger.warn({ err }, 'could not audit refused requests'),
  );

  constructor(
    private readonly db: DataSource,
    private readonly refusals: AuthRefusalsRepository,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.flusher.start(FLUSH_INTERVAL_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.flusher.stop();
  }

  /** Counts one refused request from `ip`. Never throws: the request is refused either way. */
  async refused(kind: RefusalKind, ip: string, ctx: AuditContext): Promise<void> {
    try {
      await this.refusals.count(ip, kind, {
        actorName: ctx.actorName,
        userAgent: ctx.userAgent,
        requestId: ctx.requestId,
      });
    } catch (err) {
      this.logger.error({ err, kind }, 'could not count a refused request');
    }
  }

  /**
   * Turns every tally of a minute that ended before `before` (default: the current minute, by
   * the database clock) into one audit record, in the transaction that deletes it; returns how
   * many records it wrote. Refusals come before any tenant is known: they are the platform
   * operator's, audited in `default`.
   */
  async flush(before?: Date): Promise<number> {
    let written = 0;
    for (;;) {
      const batch = await inTenant(DEFAULT_TENANT_ID, () =>
        this.db.transaction(async (tx) => {
          const tallies = await this.refusals.takeClosed(tx, before ?? null, FLUSH_BATCH);
          for (const t of tallies) {
            const ctx: AuditContext = {
              actorType: 'anonymous',
              actorId: null,
              actorName: t.firstContext.actorName,
              ip: t.ip,
              userAgent: t.firstContext.userAgent,
              requestId: t.firstContext.requestId,
            };
            await this.audit.record(tx, ctx, {
              action: 'auth.refused',
              entityType: 'principal',
              entityName: t.firstContext.actorName,
              operation: 'auth',
              outcome: 'denied',
              newValue: {
                reason: t.kind,
                count: t.count,
                firstAt: t.firstAt.toISOString(),
                lastAt: t.lastAt.toISOString(),
              },
            });
          }
          return tallies.length;
        }),
      );
      written += batch;
      if (batch < FLUSH_BATCH) return written;
    }
  }
}
