import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { anonymousContext, type AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { anyRangeContains, parseIp } from '../common/net/ip-utils';
import { AppConfig } from '../config/app-config';
import { DatabaseUnavailable, databaseUnavailableIn } from '../database/database-unavailable';
import { inTenant } from '../database/tenant-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { auditableName, fingerprintOf } from './auditable-name';
import { AuthRefusalsService } from './auth-refusals.service';
import { isClientId, newAccessToken, tokenDigest } from './client-credentials';
import { CredentialsRepository } from './credentials.repository';
import { LockoutService } from './lockout.service';
import { PasswordHasher } from './password-hasher';
import type { ActiveSession, Principal } from './principal';
import {
  ClientCredentialRow,
  PrincipalDirectory,
  SessionRow,
  UserCredentialRow,
} from './principal-directory';
import { sessionStamp } from './session-tokens';
import { SessionsRepository } from './sessions.repository';

/** lastLoginAt / lastUsedAt are written at most this often per principal, off the request path. */
const LAST_USE_INTERVAL_MS = 60_000;

export class LockedOutException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      `Too many failed authentication attempts; locked for ${retryAfterSeconds} more seconds`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** An API client calling from outside its allow-list (403, audited as auth.denied_ip). */
export class IpNotAllowedException extends ForbiddenException {
  constructor(ip: string) {
    super(`Client IP ${ip} is not in this API client's allow-list`);
  }
}

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
}

/**
 * Authentication of users (Basic) and API clients (Basic with client id + secret, or Bearer
 * tokens), with lockout, IP allow-lists and the audit of every failure.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly lastUseWritten = new Map<string, number>();
  /** When this instance last wrote a session's last_seen_at, by digest. */
  private readonly sessionSeenWritten = new Map<string, number>();

  constructor(
    private readonly db: DataSource,
    private readonly credentials: CredentialsRepository,
    private readonly directory: PrincipalDirectory,
    private readonly hasher: PasswordHasher,
    private readonly lockout: LockoutService,
    private readonly refusals: AuthRefusalsService,
    private readonly audit: AuditService,
    private readonly tenants: TenantDirectory,
    private readonly sessions: SessionsRepository,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /**
   * A person signing in to the console: exactly Basic for a user (lockout, audit, inactive
   * accounts). An API client id is refused, and the refusal counts as a failure: only users
   * have sessions.
   */
  async authenticateUser(
    name: string,
    secret: string,
    ip: string,
    ctx: AuditContext,
  ): Promise<Principal> {
    if (!isClientId(name)) return this.authenticateBasic(name, secret, ip, ctx);
    await this.assertNotLocked(name, ip, ctx);
    await this.failed(name, ip, ctx, 'client_session', await this.directory.findClient(name));
    throw new UnauthorizedException(
      'API clients have no sessions: only users sign in; use HTTP Basic or a Bearer token',
    );
  }

  /**
   * A request carrying the console's session cookie (`id` well-formed). Lockouts apply as to
   * Basic: the IP first, then the session's user. A session past its absolute or idle expiry,
   * or whose user is gone, inactive or changed (sessionStamp), is deleted and refused.
   */
  async authenticateSession(
    id: string,
    ip: string,
    ctx: AuditContext,
  ): Promise<{ principal: Principal; session: ActiveSession }> {
    await this.assertNotLocked(undefined, ip, ctx);
    const digest = tokenDigest(id);
    const row = await this.directory.findSession(digest);
    if (!row) {
      await this.failed(null, ip, ctx, 'invalid_session', undefined);
      throw new UnauthorizedException('Invalid or expired session: sign in again');
    }
    const user = await this.directory.findUser(row.username);
    const ended = this.sessionEnded(row, user);
    if (ended !== null || !user) {
      await this.endSession(row.tenantId, digest);
      await this.failed(row.username, ip, ctx, ended ?? 'session_revoked', row, false);
      throw new UnauthorizedException('This session has ended: sign in again');
    }
    await this.assertNotLocked(row.username, ip, ctx);
    this.touchSession(row, digest);
    const idleEnd = Date.now() + this.config.env.SESSION_IDLE_MINUTES * 60_000;
    return {
      principal: this.userPrincipal(user),
      session: { id, digest, tenantId: row.tenantId, expiresAt: Math.min(idleEnd, row.expiresAt) },
    };
  }

  /** Deletes a session in its tenant and forgets it here (other instances: within the TTL). */
  async endSession(tenantId: string, digest: string): Promise<void> {
    this.directory.forgetSession(digest);
    this.sessionSeenWritten.delete(digest);
    await inTenant(tenantId, () => this.sessions.delete(digest));
  }

  /**
   * Why a session no longer holds, or null. Idle counts from last_seen_at, which is written at
   * most once a minute: a minute's allowance, so a session never ends before its idle time.
   */
  private sessionEnded(row: SessionRow, user: UserCredentialRow | null): string | null {
    const now = Date.now();
    if (now >= row.expiresAt) return 'session_expired';
    const idleMs = this.config.env.SESSION_IDLE_MINUTES * 60_000;
    if (now > row.lastSeenAt + idleMs + LAST_USE_INTERVAL_MS) return 'session_idle';
    if (!user || user.id !== row.userId || user.tenantId !== row.tenantId) return 'session_revoked';
    if (user.status !== 'active') return 'inactive';
    return sessionStamp(user) === row.stamp ? null : 'session_revoked';
  }

  /** last_seen_at, off the request path: at most once a minute per session. */
  private touchSession(row: SessionRow, digest: string): void {
    const now = Date.now();
    if (
      now - Math.max(row.lastSeenAt, this.sessionSeenWritten.get(digest) ?? 0) <
      LAST_USE_INTERVAL_MS
    )
      return;
    if (this.sessionSeenWritten.size >= 100_000) this.sessionSeenWritten.clear();
    this.sessionSeenWritten.set(digest, now);
    inTenant(row.tenantId, () => this.sessions.touch(digest)).catch((err: unknown) =>
      this.logger.warn({ err }, 'could not record session use'),
    );
  }

  /** Deletes expired and idle sessions (all, in a suspended tenant) in bounded batches, tenant by tenant (periodically). */
  async purgeEndedSessions(): Promise<number> {
    const idle = this.config.env.SESSION_IDLE_MINUTES + LAST_USE_INTERVAL_MS / 60_000;
    // A suspended tenant's sessions end too (a request in one ends it at once: AccessGuard).
    const purged = await this.tenants.forEach(
      (tenant) => this.sessions.purgeEnded(idle, this.tenants.standing(tenant.id) !== 'active'),
      (err, tenant) =>
        this.logger.warn({ err, tenant: tenant.name }, 'could not purge ended sessions'),
    );
    return [...purged.values()].reduce((a, b) => a + b, 0);
  }

  /** `ctx` is the request's audit context (anonymous: the claimed name), for auth.failure/auth.lockout. */
  async authenticateBasic(
    name: string,
    secret: string,
    ip: string,
    ctx: AuditContext = anonymousContext(ip, auditableName(name)),
  ): Promise<Principal> {
    if (isClientId(name)) {
      const client = await this.verifyClientSecret(name, secret, ip, ctx);
      return this.clientPrincipal(client, ip, ctx);
    }
    const standingKnown = await this.assertNotLocked(name, ip, ctx);
    const user = await this.directory.findUser(name);
    if (!standingKnown) this.assertVerifiedBefore(secret, user?.passwordHash);
    const ok = user
      ? await this.hasher.verify(secret, user.passwordHash)
      : (await this.hasher.burn(secret), false);
    if (!user || !ok) {
      await this.failed(name, ip, ctx, user ? 'invalid_credentials' : 'unknown_principal', user);
      throw new UnauthorizedException('Invalid credentials');
    }
    if (user.status !== 'active') {
      await this.failed(name, ip, ctx, 'inactive', user, false);
      throw new UnauthorizedException('This account is inactive');
    }
    this.lockout.recordSuccess(name);
    this.touchLastUse('user', user.tenantId, user.id, ip);
    return this.userPrincipal(user);
  }

  private userPrincipal(user: UserCredentialRow): Principal {
    return {
      type: 'user',
      id: user.id,
      homeTenant: user.tenantId,
      name: user.username,
      role: user.role,
      privileges: user.privileges,
    };
  }

  /** A Bearer access token issued by POST /api/v1/oauth/token. */
  async authenticateBearer(token: string, ip: string, ctx: AuditContext): Promise<Principal> {
    // With the IP's standing unknown (database unreachable) a token still found is accepted:
    // the directory only knows tokens it read before the outage, unknown ones fail (503).
    await this.assertNotLocked(undefined, ip, ctx);
    const row = await this.directory.findToken(tokenDigest(token));
    const client =
      row && row.expiresAt > Date.now() ? await this.directory.findClient(row.clientId) : null;
    if (!client) {
      await this.failed(null, ip, ctx, 'invalid_token', undefined);
      throw new UnauthorizedException('Invalid or expired access token');
    }
    if (client.status !== 'active') {
      await this.failed(client.clientId, ip, ctx, 'inactive', client, false);
      throw new UnauthorizedException('This API client is inactive');
    }
    return this.clientPrincipal(client, ip, ctx);
  }

  /**
   * OAuth2 client credentials: verifies the client as Basic does (lockout, secret, status, IP
   * allow-list) and stores a new token, audited in the same transaction.
   */
  async issueToken(
    clientId: string,
    secret: string,
    ip: string,
    ctx: AuditContext,
  ): Promise<IssuedToken> {
    const client = await this.verifyClientSecret(clientId, secret, ip, ctx);
    const principal = await this.clientPrincipal(client, ip, ctx);
    const accessToken = newAccessToken();
    const expiresIn = this.config.env.OAUTH_TOKEN_TTL_SECONDS;
    const actor: AuditContext = {
      ...ctx,
      actorType: 'client',
      actorId: principal.id,
      actorName: principal.name,
    };
    await inTenant(client.tenantId, () =>
      this.db.transaction(async (tx) => {
        await this.credentials.insertToken(tx, tokenDigest(accessToken), client.id, expiresIn);
        await this.audit.record(tx, actor, {
          action: 'api_client.token_issue',
          entityType: 'api_client',
          entityName: client.clientId,
          operation: 'auth',
          newValue: { expiresIn },
        });
      }),
    );
    return { accessToken, expiresIn };
  }

  /** Deletes expired tokens in bounded batches, tenant by tenant (called periodically). */
  async purgeExpiredTokens(): Promise<number> {
    const purged = await this.tenants.forEach(
      () => this.credentials.purgeExpiredTokens(),
      (err, tenant) =>
        this.logger.warn({ err, tenant: tenant.name }, 'could not purge expired tokens'),
    );
    return [...purged.values()].reduce((a, b) => a + b, 0);
  }

  private async verifyClientSecret(
    clientId: string,
    secret: string,
    ip: string,
    ctx: AuditContext,
  ): Promise<ClientCredentialRow> {
    const standingKnown = await this.assertNotLocked(clientId, ip, ctx);
    const client = await this.directory.findClient(clientId);
    if (!standingKnown) this.assertVerifiedBefore(secret, client?.secretHash);
    const ok = client
      ? await this.hasher.verify(secret, client.secretHash)
      : (await this.hasher.burn(secret), false);
    if (!client || !ok) {
      await this.failed(
        clientId,
        ip,
        ctx,
        client ? 'invalid_credentials' : 'unknown_principal',
        client,
      );
      throw new UnauthorizedException('Invalid credentials');
    }
    if (client.status !== 'active') {
      await this.failed(clientId, ip, ctx, 'inactive', client, false);
      throw new UnauthorizedException('This API client is inactive');
    }
    this.lockout.recordSuccess(clientId);
    return client;
  }

  /** The principal of an authenticated client, once its IP allow-list admits the caller. */
  private async clientPrincipal(
    client: ClientCredentialRow,
    ip: string,
    ctx: AuditContext,
  ): Promise<Principal> {
    if (client.allowedRanges) {
      const addr = parseIp(ip);
      if (!addr || !anyRangeContains(client.allowedRanges, addr)) {
        await this.audit.recordEvent(
          { ...ctx, actorType: 'client', actorId: client.id, actorName: client.clientId },
          {
            action: 'auth.denied_ip',
            entityType: 'api_client',
            entityName: client.clientId,
            operation: 'access',
            outcome: 'denied',
            newValue: { ip },
          },
          client.tenantId,
        );
        throw new IpNotAllowedException(ip);
      }
    }
    this.touchLastUse('client', client.tenantId, client.id, ip);
    return {
      type: 'client',
      id: client.id,
      homeTenant: client.tenantId,
      name: client.clientId,
      role: client.role,
      privileges: client.privileges,
    };
  }

  /**
   * A refusal during a lockout is audited, at most once per IP and minute (with a count).
   * Returns false when the standing is unknown: the database is unreachable and this instance
   * knows of no lock (docs/security.md, "Database outages").
   */
  private async assertNotLocked(
    name: string | undefined,
    ip: string,
    ctx: AuditContext,
  ): Promise<boolean> {
    let locked: number;
    try {
      locked = await this.lockout.lockedFor(name, ip);
    } catch (err) {
      if (databaseUnavailableIn(err)) return false;
      throw err;
    }
    if (locked > 0) {
      await this.refusals.refused('locked_out', ip, ctx);
      throw new LockedOutException(Math.ceil(locked / 1000));
    }
    return true;
  }

  /**
   * With lockouts unknown, fails closed except for a secret this process verified against
   * this very stored hash before: no guess is judged (it could not be counted), while the
   * principals in use keep working.
   */
  private assertVerifiedBefore(secret: string, stored: string | undefined): void {
    if (stored === undefined || !this.hasher.remembers(secret, stored)) {
      throw new DatabaseUnavailable(
        'lockouts cannot be checked: only credentials verified earlier are accepted',
      );
    }
  }

  /**
   * Audits a failed authentication and, when it just tripped a lock, the lockout: in the
   * principal's home tenant when the name is one, else the platform operator's.
   */
  private async failed(
    name: string | null,
    ip: string,
    ctx: AuditContext,
    reason: string,
    known: { tenantId: string } | null | undefined,
    counts = true,
  ): Promise<void> {
    // A claimed name may be a secret typed into the wrong field: stored as itself only when it
    // names a principal that exists, otherwise as its fingerprint.
    const shown = name === null ? null : known ? auditableName(name) : fingerprintOf(name);
    const entity = { entityType: 'principal', entityName: shown };
    const tenant = known?.tenantId;
    if (ctx.actorType === 'anonymous') ctx = { ...ctx, actorName: shown };
    await this.audit.recordEvent(
      ctx,
      {
        action: 'auth.failure',
        ...entity,
        operation: 'auth',
        outcome: 'failure',
        newValue: { reason },
      },
      tenant,
    );
    if (!counts) return;
    const locked = await this.lockout.recordFailure(name ?? undefined, ip);
    if (locked.principal || locked.ip) {
      await this.audit.recordEvent(
        ctx,
        {
          action: 'auth.lockout',
          ...entity,
          operation: 'auth',
          outcome: 'denied',
          newValue: { principal: locked.principal ? shown : null, ip: locked.ip ? ip : null },
        },
        tenant,
      );
    }
  }

  /** lastLoginAt (users) and lastUsedAt/lastUsedIp (clients): at most once a minute each. */
  private touchLastUse(kind: 'user' | 'client', tenantId: string, id: string, ip: string): void {
    const now = Date.now();
    if (now - (this.lastUseWritten.get(id) ?? 0) < LAST_USE_INTERVAL_MS) return;
    if (this.lastUseWritten.size >= 100_000) this.lastUseWritten.clear();
    this.lastUseWritten.set(id, now);
    (kind === 'user'
      ? this.credentials.touchUser(tenantId, id)
      : this.credentials.touchClient(tenantId, id, ip)
    ).catch((err: unknown) => this.logger.warn({ err }, 'could not record last use'));
  }
}
