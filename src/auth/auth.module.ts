import { Global, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AccessGuard } from './access.guard';
import { AuthService } from './auth.service';
import { BasicStrategy } from './basic.strategy';
import { LockoutService } from './lockout.service';
import { PasswordHasher } from './password-hasher';
import { PrincipalDirectory } from './principal-directory';

@Global()
@Module({
  imports: [PassportModule],
  providers: [
    PasswordHasher,
    LockoutService,
    PrincipalDirectory,
    AuthService,
    BasicStrategy,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [PasswordHasher, PrincipalDirectory, LockoutService],
})
export class AuthModule implements OnModuleInit, OnModuleDestroy {
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly lockout: LockoutService) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => this.lockout.sweep(), 60_000).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }
}
