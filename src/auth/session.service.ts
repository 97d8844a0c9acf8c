import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { AppConfig } from '../config/app-config';
import { inTenant } from '../database/tenant-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { AuthService } from './auth.service';
import { tokenDigest } from './client-credentials';
import type { ActiveSession } from './principal';
import { PrincipalDirectory } from './principal-directory';
import { csrfTokenOf, newSessionId, sessionCookie, sessionStamp } from './session-tokens';
import { SessionsRepository } from './sessions.repository';

/** What GET /api/v1/session answers. */
export interface SessionState {
  csrfToken: string;
  /** ISO 8601: the earlier of the idle and the absolute expiry. */
  expiresAt: string;
  /** The user's home tenant (its name). */
  tenant: string;
}

/**
 * Console sessions (docs/console.md, "Sessions"): sign-in is HTTP Basic for a user, the
 * session lives in the user's tenant (only its id's digest is stored) and its cookie is
 * HttpOnly, SameSite=Strict and, unless TLS=off, Secure. AccessGuard authenticates the cookie.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly db: DataSource,
    private readonly auth: AuthService,
    private readonly directory: PrincipalDirectory,
    private readonly sessions: SessionsRepository,
    private readonly audit: AuditService,
    private readonly tenants: TenantDirectory,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /** Signs a user in; returns the Set-Cookie value that carries the new session. */
  async start(username: string, password: string, ip: string, ctx: AuditContext): Promise<string> {
    const principal = await this.auth.authenticateUser(username, password, ip, ctx);
    const user = await this.directory.findUser(principal.name);
    if (user?.id !== principal.id) throw new UnauthorizedException('Invalid credentials');
    const id = newSessionId();
    const actor: AuditContext = {
      ...ctx,
      actorType: 'user',
      actorId: user.id,
      actorName: user.username,
    };
    const expiresAt = await inTenant(user.tenantId, () =>
      this.db.transaction(async (tx) => {
        const expires = await this.sessions.insert(
          tx,
          tokenDigest(id),
          user.id,
          sessionStamp(user),
        );
        await this.audit.record(tx, actor, {
          action: 'session.start',
          entityType: 'user',
          entityName: user.username,
          operation: 'auth',
          newValue: { expiresAt: expires.toISOString() },
        });
        return expires;
      }),
    );
    return sessionCookie(id, (expiresAt.getTime() - Date.now()) / 1000, this.secure);
  }

  state(session: ActiveSession): SessionState {
    return {
      csrfToken: csrfTokenOf(session.id),
      expiresAt: new Date(session.expiresAt).toISOString(),
      tenant: this.tenants.nameOf(session.tenantId),
    };
  }

  /** Signs out: the session is deleted (audited); returns the Set-Cookie value that clears it. */
  async end(session: ActiveSession, ctx: AuditContext): Promise<string> {
    await inTenant(session.tenantId, () =>
      this.db.transaction(async (tx) => {
        await this.sessions.delete(session.digest, tx);
        await this.audit.record(tx, ctx, {
          action: 'session.end',
          entityType: 'user',
          entityName: ctx.actorName,
          operation: 'auth',
        });
      }),
    );
    await this.auth.endSession(session.tenantId, session.digest);
    return sessionCookie('', 0, this.secure);
  }

  private get secure(): boolean {
    return this.config.env.TLS !== 'off';
  }
}
