import { Logger } from '@nestjs/common';
import { Client, type ClientConfig } from 'pg';
import { classifyDatabaseError, DatabaseUnavailable } from './database-unavailable';
import type { DatabaseWork } from './database-work';

/** How long a statement of one kind may run on the server, and wait for a lock there. */
interface StatementLimits {
  statementMs: number;
  lockMs: number;
}

/** The waits of README "Database waits", from the DATABASE_*_TIMEOUT_MS variables. */
export interface DatabaseWaits {
  /** Waiting for a pooled connection, or for a new one to be established. */
  acquireMs: number;
  request: StatementLimits;
  long: StatementLimits;
}

/**
 * Past its statement timeout a live server has cancelled the statement and said so; this long
 * after it, silence means the server or the path to it is stalled.
 */
const GRACE_MS = 1_000;
/** While the database is unreachable, it is probed this often. */
const PROBE_INTERVAL_MS = 500;

/** A statement in flight: how to give up on it, and why it was given up (once it was). */
interface InFlight {
  abandon: () => void;
  reason?: string;
}

/** Settles a watched statement: the error to report (DatabaseUnavailable when it was one). */
export type Settle = (err?: unknown) => unknown;

/**
 * Knows whether the database is reachable and keeps every wait for it bounded (used by the
 * node-postgres classes of guarded-pg.ts, so by every query of the pool):
 *
 * - a request-path statement unanswered GRACE_MS past its statement timeout loses its
 *   connection (destroyed: it cannot be trusted again) and marks the database unreachable;
 * - a long statement unanswered that long makes a probe check the server on a connection of
 *   its own; only a failed probe (or its own, longer, limit) gives up on it;
 * - a lost connection marks the database unreachable too.
 *
 * While unreachable, statements in flight are abandoned and new ones fail at once with
 * DatabaseUnavailable (no request waits for a database known to be gone, none pins a request
 * slot), and a probe every PROBE_INTERVAL_MS notices its return.
 */
export class DatabaseGuard {
  private readonly logger = new Logger('Database');
  private outage: { since: number; reason: string } | null = null;
  private readonly inFlight = new Set<InFlight>();
  private probing: Promise<boolean> | null = null;
  private recovering = false;
  private stopped = false;

  constructor(
    readonly waits: DatabaseWaits,
    /** How the probe connects: the pool's own connection settings. */
    private readonly connection: ClientConfig,
    /** Session settings (`-c name=value …`) every connection starts with. */
    private readonly baseOptions: string,
  ) {}

  /** The startup options of a session whose timeouts are those of `kind`. */
  sessionOptions(kind: DatabaseWork): string {
    const { statementMs, lockMs } = this.waits[kind];
    return `${this.baseOptions} -c statement_timeout=${statementMs} -c lock_timeout=${lockMs}`;
  }

  /** Why the database is unreachable now, or undefined while it is reachable. */
  get unreachable(): string | undefined {
    return this.outage?.reason;
  }

  /** The error for a statement refused because the database is unreachable. */
  refusal(): DatabaseUnavailable {
    return new DatabaseUnavailable(`unreachable: ${this.outage?.reason ?? 'unknown'}`);
  }

  /** `SET` of a kind's statement and lock timeouts, for a session that runs another kind. */
  timeoutsFor(kind: DatabaseWork): string {
    const { statementMs, lockMs } = this.waits[kind];
    return `SET statement_timeout = ${statementMs}; SET lock_timeout = ${lockMs}`;
  }

  /** Watches one statement from now; call the returned function once it has settled. */
  watch(abandon: () => void, kind: DatabaseWork): Settle {
    const entry: InFlight = { abandon };
    this.inFlight.add(entry);
    const limit = this.waits[kind].statementMs + GRACE_MS;
    // Checked after the loop's next poll phase: a reply that arrived while the event loop was
    // blocked is read (and settles the statement) before silence is concluded from the clock.
    const hard = setTimeout(
      () =>
        setImmediate(() => {
          if (this.inFlight.has(entry)) this.giveUp(entry, `no answer within ${limit} ms`);
        }),
      limit,
    );
    const check =
      kind === 'long'
        ? setTimeout(() => this.checkLiveness(), this.waits.request.statementMs + GRACE_MS)
        : undefined;
    return (err?: unknown) => {
      clearTimeout(hard);
      clearTimeout(check);
      this.inFlight.delete(entry);
      if (err === undefined) return undefined;
      if (entry.reason !== undefined) return new DatabaseUnavailable(entry.reason, { cause: err });
      return this.failed(err);
    };
  }

  /** An error from node-postgres, as DatabaseUnavailable when it is one (a lost one marks the outage). */
  failed(err: unknown): unknown {
    const classified = classifyDatabaseError(err);
    if (classified?.lost) this.down(classified.error.reason);
    return classified?.error ?? err;
  }

  /** Stops probing (shutdown). */
  stop(): void {
    this.stopped = true;
  }

  private giveUp(entry: InFlight, reason: string): void {
    entry.reason = reason;
    entry.abandon();
    this.down(reason);
  }

  private checkLiveness(): void {
    if (this.outage) return;
    void this.probe().then((ok) => {
      if (!ok) this.down(`no answer to a probe within ${this.probeLimitMs()} ms`);
    });
  }

  private down(reason: string): void {
    if (this.outage || this.stopped) return;
    this.outage = { since: Date.now(), reason };
    this.logger.warn(
      { reason },
      'database unreachable: failing statements at once until it answers',
    );
    for (const entry of this.inFlight) {
      entry.reason ??= `unreachable: ${reason}`;
      entry.abandon();
    }
    void this.recover();
  }

  /** Probes until the database answers again (one loop at a time). */
  private async recover(): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      while (this.outage && !this.stopped) {
        if (await this.probe()) {
          const downMs = Date.now() - this.outage.since;
          this.outage = null;
          this.logger.log({ downMs }, 'database reachable again');
          return;
        }
        await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS).unref());
      }
    } finally {
      this.recovering = false;
    }
  }

  private probeLimitMs(): number {
    return this.waits.acquireMs + this.waits.request.statementMs;
  }

  /**
   * `SELECT 1` on a fresh connection within the acquisition and statement limits: false when
   * the server could not be reached or did not answer.
   */
  private probe(): Promise<boolean> {
    this.probing ??= (async () => {
      const client = new Client({
        ...this.connection,
        options: this.sessionOptions('request'),
        connectionTimeoutMillis: this.waits.acquireMs,
      });
      client.on('error', () => undefined);
      const destroy = (): void => destroyConnection(client);
      const timer = setTimeout(destroy, this.probeLimitMs());
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return true;
      } catch (err) {
        destroy();
        // A server that answers, even with an error (too many connections, starting up), is there.
        return classifyDatabaseError(err)?.lost !== true;
      } finally {
        clearTimeout(timer);
      }
    })().finally(() => {
      this.probing = null;
    });
    return this.probing;
  }
}

/** Closes a node-postgres connection at once, whatever it is waiting for. */
export function destroyConnection(client: Client): void {
  (
    client as unknown as { connection?: { stream?: { destroy(): void } } }
  ).connection?.stream?.destroy();
}
