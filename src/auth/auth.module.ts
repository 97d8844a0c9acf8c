import { Logger, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PeriodicSweep } from '../common/periodic-sweep';
import { AuditModule } from '../audit/audit.module';
import { AccessGuard } from './access.guard';
import { AuthRefusalsRepository } from './auth-refusals.repository';
import { AuthRefusalsService } from './auth-refusals.service';
import { AuthService } from './auth.service';
import { CredentialsRepository } from './credentials.repository';
import { Delegation } from './delegation';
import { BasicStrategy } from './basic.strategy';
import { BearerStrategy } from './bearer.strategy';
import { OAuthController } from './oauth.controller';
import { LockoutRepository } from './lockout.repository';
import { LockoutService } from './lockout.service';
import { PasswordHasher } from './password-hasher';
import { PrincipalDirectory } from './principal-directory';
import { SessionController } from './session.controller';
import { SessionService } from './session.service';
import { SessionsRepository } from './sessions.repository';

/**
 * Authentication and the access guard (applied to every route through APP_GUARD). Features that
 * manage principals import it for PrincipalDirectory, PasswordHasher, LockoutService, Delegation.
 */
@Module({
  imports: [AuditModule],
  controllers: [OAuthController, SessionController],
  providers: [
    PasswordHasher,
    CredentialsRepository,
    LockoutRepository,
    LockoutService,
    AuthRefusalsRepository,
    AuthRefusalsService,
    SessionsRepository,
    PrincipalDirectory,
    AuthService,
    SessionService,
    Delegation,
    BasicStrategy,
    BearerStrategy,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [PasswordHasher, PrincipalDirectory, LockoutService, Delegation],
})
export class AuthModule implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AuthModule.name);
  /** Once a minute: prune expired lockout rows, delete expired access tokens and sessions. */
  private readonly sweeper = new PeriodicSweep(
    async () => {
      const [lockouts, tokens, sessions] = await Promise.allSettled([
        this.lockout.sweep(),
        this.auth.purgeExpiredTokens(),
        this.auth.purgeEndedSessions(),
      ]);
      if (lockouts.status === 'rejected')
        this.logger.warn({ err: lockouts.reason as unknown }, 'could not prune lockout rows');
      if (tokens.status === 'rejected')
        this.logger.warn({ err: tokens.reason as unknown }, 'could not purge expired tokens');
      if (sessions.status === 'rejected')
        this.logger.warn({ err: sessions.reason as unknown }, 'could not purge ended sessions');
    },
    (err: unknown) => this.logger.warn({ err }, 'auth sweep failed'),
  );

  constructor(
    private readonly lockout: LockoutService,
    private readonly auth: AuthService,
  ) {}

  onModuleInit(): void {
    this.sweeper.start(60_000);
  }

  onModuleDestroy(): Promise<void> {
    return this.sweeper.stop();
  }
}
