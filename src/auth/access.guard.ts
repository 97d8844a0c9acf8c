import {
  ExecutionContext,
  ForbiddenException,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Response } from 'express';
import { auditContextOf } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { ANY_PRINCIPAL, PRIVILEGE_KEY, PUBLIC_KEY, RequiredAccess } from './auth.decorator';
import { LockedOutException } from './auth.service';
import type { IndiciumRequest, Principal } from './principal';

/**
 * The one gate every route passes (APP_GUARD). Denies by default: a route that declares
 * neither @Public() nor @Auth() is refused. Otherwise authenticates (passport) and checks
 * the privilege the route demands.
 */
@Injectable()
export class AccessGuard extends AuthGuard(['basic', 'bearer']) {
  private readonly logger = new Logger(AccessGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {
    super();
  }

  override getAuthenticateOptions(): { session: false; property: string } {
    return { session: false, property: 'principal' };
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    context.switchToHttp().getRequest<IndiciumRequest>().handlerMatched = true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const required = this.reflector.getAllAndOverride<RequiredAccess | undefined>(
      PRIVILEGE_KEY,
      targets,
    );
    if (required === undefined) {
      this.logger.error(
        `Route ${context.getClass().name}.${context.getHandler().name} declares no access rule; denied`,
      );
      throw new ForbiddenException('Access denied');
    }
    await super.canActivate(context);
    const req = context.switchToHttp().getRequest<IndiciumRequest>();
    const principal = req.principal as Principal;
    if (required !== ANY_PRINCIPAL && !principal.privileges.has(required)) {
      // Only the denial path pays for the audit write; allowed requests stay query-free.
      await this.audit.recordEvent(auditContextOf(req), {
        action: 'access.denied',
        entityType: 'route',
        entityName: `${req.method} ${(req.route as { path?: string } | undefined)?.path ?? req.path}`,
        operation: 'access',
        outcome: 'denied',
        newValue: { privilege: required },
      });
      throw new ForbiddenException(`This operation needs the privilege "${required}"`);
    }
    return true;
  }

  override handleRequest<T = Principal>(
    err: unknown,
    user: T | false,
    _info: unknown,
    context: ExecutionContext,
  ): T {
    if (err instanceof LockedOutException) {
      context
        .switchToHttp()
        .getResponse<Response>()
        .setHeader('Retry-After', String(err.retryAfterSeconds));
    }
    if (err) throw err instanceof Error ? err : new UnauthorizedException('Invalid credentials');
    if (!user)
      throw new UnauthorizedException(
        'Authentication required: send HTTP Basic credentials or a Bearer token',
      );
    return user;
  }
}
