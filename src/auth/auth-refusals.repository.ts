import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { Sql } from '../database/sql';

export type RefusalKind = 'locked_out' | 'malformed_authorization';

/** The request side of the first refusal in a tally: what its audit record names. */
export type RefusalContext = Pick<AuditContext, 'actorName' | 'userAgent' | 'requestId'>;

/** One (ip, kind, minute) tally, taken for auditing. */
export interface RefusalTally {
  ip: string;
  kind: RefusalKind;
  count: number;
  firstAt: Date;
  lastAt: Date;
  firstContext: RefusalContext;
}

/**
 * `auth_refusals`: per source IP, kind and minute (by the database clock), how many requests
 * were refused and who the first one claimed to be. Bounded by the number of IPs refused in a
 * minute, whatever the request rate.
 */
@Injectable()
export class AuthRefusalsRepository {
  constructor(private readonly sql: Sql) {}

  /** Counts one refusal: one upsert, whichever instance refused it. */
  async count(ip: string, kind: RefusalKind, context: RefusalContext): Promise<void> {
    await this.sql.exec(
      `INSERT INTO auth_refusals AS r (ip, kind, minute, count, first_at, last_at, first_context)
       VALUES ($1, $2, date_trunc('minute', now()), 1, now(), now(), $3)
       ON CONFLICT (ip, kind, minute) DO UPDATE SET count = r.count + 1, last_at = now()`,
      [ip, kind, JSON.stringify(context)],
    );
  }

  /**
   * Deletes and returns up to `limit` tallies of minutes that ended before `before` (default:
   * the current minute), within `tx`. Rows another instance is taking are skipped, so each
   * tally is taken once.
   */
  async takeClosed(tx: EntityManager, before: Date | null, limit: number): Promise<RefusalTally[]> {
    const rows = await this.sql.in(tx).rows<RefusalTally>(
      `DELETE FROM auth_refusals WHERE (ip, kind, minute) IN (
           SELECT ip, kind, minute FROM auth_refusals
            WHERE minute < date_trunc('minute', coalesce($1::timestamptz, now()))
            ORDER BY minute LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING ip, kind, count, first_at AS "firstAt", last_at AS "lastAt",
                   first_context AS "firstContext"`,
      [before, limit],
    );
    return rows.sort((a, b) => a.firstAt.getTime() - b.firstAt.getTime());
  }
}
