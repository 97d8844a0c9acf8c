import {
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { anonymousContext, type AuditContext } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { LockoutService } from './lockout.service';
import { PasswordHasher } from './password-hasher';
import type { Principal } from './principal';
import { PrincipalDirectory } from './principal-directory';

const LAST_LOGIN_INTERVAL_MS = 60_000;

export class LockedOutException extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super(
      `Too many failed authentication attempts; locked for ${retryAfterSeconds} more seconds`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** Verifies HTTP Basic credentials of users (people). */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly lastLoginWritten = new Map<string, number>();

  constructor(
    private readonly db: DataSource,
    private readonly directory: PrincipalDirectory,
    private readonly hasher: PasswordHasher,
    private readonly lockout: LockoutService,
    private readonly audit: AuditService,
  ) {}

  /** `ctx` is the request's audit context (anonymous: the claimed name), for auth.failure/auth.lockout. */
  async authenticateBasic(
    name: string,
    secret: string,
    ip: string,
    ctx: AuditContext = anonymousContext(ip, name),
  ): Promise<Principal> {
    const locked = this.lockout.lockedFor(name, ip);
    if (locked > 0) throw new LockedOutException(Math.ceil(locked / 1000));

    const user = await this.directory.findUser(name);
    const ok = user
      ? await this.hasher.verify(secret, user.passwordHash)
      : (await this.hasher.burn(secret), false);
    if (!user || !ok) {
      await this.failed(name, ip, ctx, user ? 'invalid_credentials' : 'unknown_principal');
      throw new UnauthorizedException('Invalid credentials');
    }
    if (user.status !== 'active') {
      await this.failed(name, ip, ctx, 'inactive', false);
      throw new UnauthorizedException('This account is inactive');
    }
    this.lockout.recordSuccess(name);
    this.touchLastLogin(user.id);
    return {
      type: 'user',
      id: user.id,
      name: user.username,
      role: user.role,
      privileges: new Set(user.privileges),
    };
  }

  /** Audits a failed authentication and, when it just tripped a lock, the lockout. */
  private async failed(
    name: string,
    ip: string,
    ctx: AuditContext,
    reason: string,
    counts = true,
  ): Promise<void> {
    const entity = { entityType: 'principal', entityName: name };
    await this.audit.recordEvent(ctx, {
      action: 'auth.failure',
      ...entity,
      operation: 'auth',
      outcome: 'failure',
      newValue: { reason },
    });
    if (!counts) return;
    const locked = this.lockout.recordFailure(name, ip);
    if (locked.principal || locked.ip) {
      await this.audit.recordEvent(ctx, {
        action: 'auth.lockout',
        ...entity,
        operation: 'auth',
        outcome: 'denied',
        newValue: { principal: locked.principal ? name : null, ip: locked.ip ? ip : null },
      });
    }
  }

  /** lastLoginAt is written at most once a minute per user, off the request path. */
  private touchLastLogin(userId: string): void {
    const now = Date.now();
    if (now - (this.lastLoginWritten.get(userId) ?? 0) < LAST_LOGIN_INTERVAL_MS) return;
    this.lastLoginWritten.set(userId, now);
    this.db
      .query('UPDATE users SET last_login_at = now() WHERE id = $1', [userId])
      .catch((err: unknown) => this.logger.warn({ err }, 'could not record last login'));
  }
}
