import { Injectable } from '@nestjs/common';
import { prepare, Sql } from '../database/sql';

type LockoutKind = 'principal' | 'ip';

/** A principal's or IP's standing, as of the query. */
export interface LockoutState {
  kind: LockoutKind;
  /** Failures in the current window (0 once the window and any lock are over). */
  failures: number;
  /** Milliseconds the lock has left, by the database clock; 0 when not locked. */
  lockedMs: number;
}

export interface LockoutLimits {
  principalFailures: number;
  ipFailures: number;
  windowSeconds: number;
  lockSeconds: number;
}

/** A row whose window and lock are both over starts afresh on its next failure. */
const RESTART = `l.expires_at <= now()`;
const FAILURES = `CASE WHEN ${RESTART} THEN 1 ELSE l.failures + 1 END`;
const WINDOW_START = `CASE WHEN ${RESTART} THEN now() ELSE l.window_started_at END`;
const LIMIT = `CASE l.kind WHEN 'principal' THEN $3::int ELSE $4::int END`;
const WINDOW = `make_interval(secs => $5)`;
const LOCK = `make_interval(secs => $6)`;
/** A running lock keeps its end; otherwise the failure that reaches the limit starts one. */
const LOCKED_UNTIL = `CASE WHEN l.locked_until > now() THEN l.locked_until
                           WHEN ${FAILURES} >= ${LIMIT} THEN now() + ${LOCK} END`;
const LOCKED_MS = `greatest(0, extract(epoch FROM locked_until - now()) * 1000)::float8`;

/** The lock check when nothing fresh is known: prepared, as it can run on every request. */
const STATE = prepare<LockoutState>(
  'auth_lockouts_state',
  `SELECT kind, CASE WHEN expires_at <= now() THEN 0 ELSE failures END AS failures,
          ${LOCKED_MS} AS "lockedMs"
     FROM auth_lockouts
    WHERE (kind = 'principal' AND subject = $1) OR (kind = 'ip' AND subject = $2)`,
);

/**
 * `auth_lockouts` (docs/api.md §2): failure counts and locks per principal and per source IP,
 * shared by every instance. Each failure is one upsert that counts it and, at the limit,
 * starts the lock, atomically, whichever instance saw the earlier failures.
 */
@Injectable()
export class LockoutRepository {
  constructor(private readonly sql: Sql) {}

  /** Both rows by primary key (the principal's only when `principal` is not null). */
  state(principal: string | null, ip: string): Promise<LockoutState[]> {
    return this.sql.prepared(STATE, [principal, ip]);
  }

  /** Counts one failure for the principal (unless null) and the IP; `justLocked` per row. */
  recordFailure(
    principal: string | null,
    ip: string,
    limits: LockoutLimits,
  ): Promise<Array<LockoutState & { justLocked: boolean }>> {
    return this.sql.rows<LockoutState & { justLocked: boolean }>(
      `INSERT INTO auth_lockouts AS l
              (kind, subject, failures, window_started_at, locked_until, expires_at)
       SELECT s.kind, s.subject, 1, now(), CASE WHEN s.lim <= 1 THEN now() + ${LOCK} END,
              now() + CASE WHEN s.lim <= 1 THEN greatest(${WINDOW}, ${LOCK}) ELSE ${WINDOW} END
         FROM (VALUES ('principal', $1::text, $3::int), ('ip', $2::text, $4::int))
              AS s (kind, subject, lim)
        WHERE s.subject IS NOT NULL
       ON CONFLICT (kind, subject) DO UPDATE SET
              failures = ${FAILURES},
              window_started_at = ${WINDOW_START},
              locked_until = ${LOCKED_UNTIL},
              expires_at = greatest(${WINDOW_START} + ${WINDOW},
                                    coalesce(${LOCKED_UNTIL}, '-infinity'))
       RETURNING kind, failures, ${LOCKED_MS} AS "lockedMs",
                 coalesce(locked_until = now() + ${LOCK}, false) AS "justLocked"`,
      [
        principal,
        ip,
        limits.principalFailures,
        limits.ipFailures,
        limits.windowSeconds,
        limits.lockSeconds,
      ],
    );
  }

  /** After a successful login: forgets the principal's failures, never a running lock. */
  async clearPrincipal(principal: string): Promise<void> {
    await this.sql.exec(
      `DELETE FROM auth_lockouts
        WHERE kind = 'principal' AND subject = $1 AND (locked_until IS NULL OR locked_until <= now())`,
      [principal],
    );
  }

  /** Deletes up to `limit` rows whose window and lock are over; returns how many. */
  pruneExpired(limit: number): Promise<number> {
    return this.sql.exec(
      `DELETE FROM auth_lockouts WHERE (kind, subject) IN (
         SELECT kind, subject FROM auth_lockouts WHERE expires_at <= now() LIMIT $1)`,
      [limit],
    );
  }
}
