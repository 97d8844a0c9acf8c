import { Inject, Injectable } from '@nestjs/common';
import { IpRange, parseRange } from '../common/net/ip-utils';
import { AppConfig } from '../config/app-config';
import { databaseUnavailableIn } from '../database/database-unavailable';
import { SessionsRepository } from './sessions.repository';
import {
  ClientCredentialRecord,
  CredentialsRepository,
  UserCredentialRecord,
} from './credentials.repository';
import { isPrivilege, Privilege } from './privileges';

/** What authentication needs to know about a user, read in one indexed query. */
export interface UserCredentialRow extends Omit<UserCredentialRecord, 'privileges'> {
  /** Built once per load and shared by every principal made from this row. */
  privileges: ReadonlySet<Privilege>;
}

/** What authentication needs to know about an API client. */
export interface ClientCredentialRow extends Omit<
  ClientCredentialRecord,
  'privileges' | 'ipMode' | 'allowedIps'
> {
  privileges: ReadonlySet<Privilege>;
  /** null: allow_all; else the parsed allow-list. */
  allowedRanges: IpRange[] | null;
}

/** An access token: whose, and until when. */
export interface TokenRow {
  clientId: string;
  expiresAt: number;
}

/** A console session (user_sessions), by the SHA-256 of its id; times in epoch ms. */
export interface SessionRow {
  tenantId: string;
  userId: string;
  username: string;
  stamp: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

interface Cached<T> {
  value: T | null;
  at: number;
}

/** A load in progress, joined by lookups of the same key made before the next invalidate(). */
interface Loading<T> {
  value: Promise<T | null>;
  generation: number;
}

/** One kind of lookup: its snapshots, and the loads running now (bounded by concurrency). */
class Lookups<T> {
  readonly entries = new Map<string, Cached<T>>();
  readonly loading = new Map<string, Loading<T>>();
}

const MAX_ENTRIES = 10_000;

/**
 * A short-lived (AUTH_CACHE_TTL_SECONDS ≤ 5 s) snapshot of principals' credentials, roles,
 * status and tokens, so an authenticated request costs no query most of the time. Changes on
 * this instance invalidate it at once; other instances see them when the TTL runs out.
 *
 * While the database is unreachable, a snapshot read up to AUTH_OUTAGE_GRACE_SECONDS ago is
 * served instead: no change to a principal can commit meanwhile (docs/security.md).
 */
@Injectable()
export class PrincipalDirectory {
  private readonly users = new Lookups<UserCredentialRow>();
  private readonly clients = new Lookups<ClientCredentialRow>();
  private readonly tokens = new Lookups<TokenRow>();
  private readonly sessions = new Lookups<SessionRow>();
  /** Bumped by invalidate(): a load that overlapped a change must not be cached. */
  private generation = 0;

  constructor(
    private readonly credentials: CredentialsRepository,
    private readonly sessionRows: SessionsRepository,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  findUser(username: string): Promise<UserCredentialRow | null> {
    return this.cached(this.users, username, async () => {
      const row = await this.credentials.findUser(username);
      return row ? { ...row, privileges: new Set(row.privileges.filter(isPrivilege)) } : null;
    });
  }

  /** By the public client id (`ind_…`). */
  findClient(clientId: string): Promise<ClientCredentialRow | null> {
    return this.cached(this.clients, clientId, async () => {
      const row = await this.credentials.findClient(clientId);
      if (!row) return null;
      const { ipMode, allowedIps, privileges, ...rest } = row;
      return {
        ...rest,
        privileges: new Set(privileges.filter(isPrivilege)),
        allowedRanges: ipMode === 'restricted' ? allowedIps.map(parseRange) : null,
      };
    });
  }

  /** By the token's SHA-256; expired tokens are not found. */
  findToken(digest: string): Promise<TokenRow | null> {
    return this.cached(this.tokens, digest, async () => {
      const row = await this.credentials.findToken(digest);
      return row ? { clientId: row.clientId, expiresAt: row.expiresAt.getTime() } : null;
    });
  }

  /** A console session by the SHA-256 of its id (docs/console.md, "Sessions"). */
  findSession(digest: string): Promise<SessionRow | null> {
    return this.cached(this.sessions, digest, async () => {
      const row = await this.sessionRows.find(digest);
      return row
        ? {
            ...row,
            createdAt: row.createdAt.getTime(),
            lastSeenAt: row.lastSeenAt.getTime(),
            expiresAt: row.expiresAt.getTime(),
          }
        : null;
    });
  }

  /** Forget one session this instance ended (other instances see it go within the TTL). */
  forgetSession(digest: string): void {
    this.generation++;
    this.sessions.entries.delete(digest);
  }

  /**
   * Forget everything. The repositories that write users, clients, tokens and roles call it
   * after each write commits (their writes go through `Sql.followedBy`).
   */
  invalidate(): void {
    this.generation++;
    this.users.entries.clear();
    this.clients.entries.clear();
    this.tokens.entries.clear();
    this.sessions.entries.clear();
  }

  private async cached<T>(
    lookups: Lookups<T>,
    key: string,
    load: () => Promise<T | null>,
  ): Promise<T | null> {
    const hit = lookups.entries.get(key);
    const age = hit ? Date.now() - hit.at : Infinity;
    if (hit && age < this.config.env.AUTH_CACHE_TTL_SECONDS * 1000) return hit.value;
    try {
      return await this.load(lookups, key, load);
    } catch (err) {
      const grace = this.config.env.AUTH_OUTAGE_GRACE_SECONDS * 1000;
      if (hit && age < grace && databaseUnavailableIn(err)) return hit.value;
      throw err;
    }
  }

  /** A burst of misses on one key shares one query. */
  private async load<T>(
    lookups: Lookups<T>,
    key: string,
    load: () => Promise<T | null>,
  ): Promise<T | null> {
    const { entries: map, loading: loads } = lookups;
    const running = loads.get(key);
    if (running && running.generation === this.generation) return running.value;
    // Aged from before the query: its snapshot is no older than that, so a change committed
    // while it ran is still seen within the TTL.
    const at = Date.now();
    const generation = this.generation;
    const value = load();
    const mine: Loading<T> = { value, generation };
    loads.set(key, mine);
    try {
      const row = await value;
      if (generation === this.generation) {
        if (map.size >= MAX_ENTRIES) map.clear();
        map.set(key, { value: row, at });
      }
      return row;
    } finally {
      if (loads.get(key) === mine) loads.delete(key);
    }
  }
}
