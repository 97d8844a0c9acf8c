import { Global, Logger, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccessGuard } from './access.guard';
import { AuthService } from './auth.service';
import { BasicStrategy } from './basic.strategy';
import { BearerStrategy } from './bearer.strategy';
import { OAuthController } from './oauth.controller';
import { LockoutService } from './lockout.service';
import { PasswordHasher } from './password-hasher';
import { PrincipalDirectory } from './principal-directory';

@Global()
@Module({
  controllers: [OAuthController],
  providers: [
    PasswordHasher,
    LockoutService,
    PrincipalDirectory,
    AuthService,
    BasicStrategy,
    BearerStrategy,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [PasswordHasher, PrincipalDirectory, LockoutService],
})
export class AuthModule implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AuthModule.name);
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly lockout: LockoutService,
    private readonly auth: AuthService,
  ) {}

  /** Once a minute: forget stale lockout counters and delete expired access tokens. */
  onModuleInit(): void {
    this.sweeper = setInterval(() => {
      this.lockout.sweep();
      this.auth
        .purgeExpiredTokens()
        .catch((err: unknown) => this.logger.warn({ err }, 'could not purge expired tokens'));
    }, 60_000).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }
}
