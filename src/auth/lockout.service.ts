import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { databaseUnavailableIn } from '../database/database-unavailable';
import { auditableName } from './auditable-name';
import { LockoutLimits, LockoutRepository, LockoutState } from './lockout.repository';

/** What this instance last read about a principal or IP. */
interface Seen {
  failures: number;
  /** Local clock (Date.now()) at which the lock ends; 0 when not locked. */
  lockedUntil: number;
  at: number;
}

/**
 * How long a clean (no recent failures) or locked standing is trusted without a query. A
 * principal or IP with failures but no lock is read on every check, so a lock that another
 * instance starts is seen at once where an attack is under way.
 */
const TRUST_MS = 1_000;
const MAX_SEEN = 10_000;
const PRUNE_BATCH = 10_000;

/**
 * Repeated authentication failures lock a principal (LOCKOUT_PRINCIPAL_FAILURES) or a source
 * IP (LOCKOUT_IP_FAILURES) within LOCKOUT_WINDOW_MINUTES for LOCKOUT_DURATION_MINUTES
 * (docs/api.md §2). The counts and locks live in Postgres, so every instance shares them and a
 * restart keeps them. The hot path stays cheap: a failure is one upsert, a successful login of
 * a principal without failures writes nothing, and a lock check is answered from what this
 * instance read within the last second, or else one primary-key read shared by the checks
 * that overlap it.
 */
@Injectable()
export class LockoutService {
  private readonly logger = new Logger(LockoutService.name);
  private readonly principals = new Map<string, Seen>();
  private readonly ips = new Map<string, Seen>();
  /** Reads in progress, by principal and IP, joined by checks that overlap them. */
  private readonly reading = new Map<string, Promise<void>>();

  constructor(
    private readonly repository: LockoutRepository,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /**
   * Milliseconds until the lock on this principal or IP ends; 0 when not locked. While the
   * database is unreachable a lock this instance knows of still counts; with none known it
   * throws DatabaseUnavailable: whether to proceed is the caller's decision (AuthService).
   */
  async lockedFor(principalKey: string | undefined, ip: string): Promise<number> {
    const principal = this.principalOf(principalKey);
    if (
      !trusted(this.ips.get(ip), Date.now()) ||
      (principal !== null && !trusted(this.principals.get(principal), Date.now()))
    ) {
      await this.read(principal, ip).catch((err: unknown) => {
        if (!databaseUnavailableIn(err) || this.knownLock(principal, ip) === 0) throw err;
      });
    }
    return this.knownLock(principal, ip);
  }

  /** Counts a failure for the principal and the IP; says which of the two it just locked. */
  async recordFailure(
    principalKey: string | undefined,
    ip: string,
  ): Promise<{ principal: boolean; ip: boolean }> {
    const principal = this.principalOf(principalKey);
    const env = this.config.env;
    const limits: LockoutLimits = {
      principalFailures: env.LOCKOUT_PRINCIPAL_FAILURES,
      ipFailures: env.LOCKOUT_IP_FAILURES,
      windowSeconds: env.LOCKOUT_WINDOW_MINUTES * 60,
      lockSeconds: env.LOCKOUT_DURATION_MINUTES * 60,
    };
    const rows = await this.repository.recordFailure(principal, ip, limits);
    this.remember(principal, ip, rows, Date.now());
    return {
      principal: rows.some((r) => r.kind === 'principal' && r.justLocked),
      ip: rows.some((r) => r.kind === 'ip' && r.justLocked),
    };
  }

  /**
   * A successful login clears the principal's failure count (not the IP's). Only a principal
   * this instance saw failures for costs a write; it happens off the request path.
   */
  recordSuccess(principalKey: string): void {
    const principal = this.principalOf(principalKey);
    const seen = principal === null ? undefined : this.principals.get(principal);
    if (principal === null || !seen || seen.failures === 0 || seen.lockedUntil > Date.now()) {
      return;
    }
    seen.failures = 0;
    this.repository
      .clearPrincipal(principal)
      .catch((err: unknown) => this.logger.warn({ err }, 'could not clear a failure count'));
  }

  /** Deletes rows whose window and lock are over (called periodically, by every instance). */
  async sweep(): Promise<void> {
    let pruned: number;
    do pruned = await this.repository.pruneExpired(PRUNE_BATCH);
    while (pruned === PRUNE_BATCH);
    const now = Date.now();
    for (const map of [this.principals, this.ips]) {
      for (const [key, seen] of map) if (!trusted(seen, now)) map.delete(key);
    }
  }

  /** What this instance last read about the lock on the principal or IP. */
  private knownLock(principal: string | null, ip: string): number {
    const now = Date.now();
    return Math.max(
      left(this.ips.get(ip), now),
      principal === null ? 0 : left(this.principals.get(principal), now),
    );
  }

  /**
   * The row key of a claimed name: itself when it could be a username or client id; otherwise
   * (no principal has it) a short digest, so a password typed into the name field is not kept.
   */
  private principalOf(principalKey: string | undefined): string | null {
    return principalKey === undefined ? null : auditableName(principalKey);
  }

  private read(principal: string | null, ip: string): Promise<void> {
    const flight = `${principal ?? ''}\0${ip}`;
    let running = this.reading.get(flight);
    if (!running) {
      running = this.repository
        .state(principal, ip)
        .then((rows) => this.remember(principal, ip, rows, Date.now()))
        .finally(() => this.reading.delete(flight));
      this.reading.set(flight, running);
    }
    return running;
  }

  /** Records the rows read or written for this principal and IP; absent rows are clean. */
  private remember(principal: string | null, ip: string, rows: LockoutState[], now: number): void {
    if (principal !== null) {
      put(
        this.principals,
        principal,
        rows.find((r) => r.kind === 'principal'),
        now,
      );
    }
    put(
      this.ips,
      ip,
      rows.find((r) => r.kind === 'ip'),
      now,
    );
  }
}

function trusted(seen: Seen | undefined, now: number): boolean {
  if (!seen || now - seen.at >= TRUST_MS) return false;
  return seen.failures === 0 || seen.lockedUntil > now;
}

function left(seen: Seen | undefined, now: number): number {
  return seen ? Math.max(0, seen.lockedUntil - now) : 0;
}

function put(
  map: Map<string, Seen>,
  key: string,
  row: LockoutState | undefined,
  now: number,
): void {
  if (map.size >= MAX_SEEN) map.clear();
  map.set(key, {
    failures: row?.failures ?? 0,
    lockedUntil: row && row.lockedMs > 0 ? now + row.lockedMs : 0,
    at: now,
  });
}
