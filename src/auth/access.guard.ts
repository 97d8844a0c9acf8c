import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { auditContextOf } from '../audit/audit-context';
import { AuditService } from '../audit/audit.service';
import { TenantNotFoundError } from '../common/errors/domain-errors';
import { AppConfig } from '../config/app-config';
import { settleTenant } from '../database/tenant-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { AuthRefusalsService } from './auth-refusals.service';
import { ANY_PRINCIPAL, PRIVILEGE_KEY, PUBLIC_KEY, RequiredAccess } from './auth.decorator';
import { AuthService, LockedOutException } from './auth.service';
import { BasicStrategy } from './basic.strategy';
import { BearerStrategy } from './bearer.strategy';
import type { IndiciumRequest, Principal } from './principal';
import {
  csrfTokenMatches,
  CSRF_HEADER,
  SESSION_CHALLENGE,
  sessionCookie,
  sessionCookieOf,
} from './session-tokens';

const PUBLIC = Symbol('public');
/** Names the tenant a request acts in (docs/api.md §12); absent, the principal's home. */
const TENANT_HEADER = 'x-indicium-tenant';
/** What a route declared: @Public(), an @Auth() privilege (or any principal), or nothing. */
type AccessRule = RequiredAccess | typeof PUBLIC | undefined;
const AUTHENTICATION_REQUIRED =
  'Authentication required: send HTTP Basic credentials or a Bearer token';
/** Methods a cookie-authenticated request may use without the CSRF header (they change nothing). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SESSION_PATH = '/api/v1/session';

/**
 * The one gate every route passes (APP_GUARD). Denies by default: a route that declares
 * neither @Public() nor @Auth() is refused. Otherwise authenticates and checks the privilege
 * the route demands.
 *
 * Authentication runs exactly one passport strategy, chosen by the Authorization scheme
 * (`Basic` or `Bearer`, case-insensitive), through the passport-strategy action interface
 * (success / fail / error). Credentials are read from the Authorization header only — never
 * from a query string or body, where tokens end up in logs — or, when there is none, from the
 * console's HttpOnly session cookie, whose writes must carry the CSRF header. We do not go through
 * `passport.authenticate()`: it would try each strategy in turn and equip every request with
 * session helpers (`req.login`, `req.logout`, …) that a stateless API never uses, which was
 * the largest part of the cost of an authenticated request.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger(AccessGuard.name);
  private readonly strategies: ReadonlyMap<string, BasicStrategy | BearerStrategy>;
  /** Per controller class, per handler: its access rule (route metadata is fixed at start). */
  private readonly rules = new Map<object, Map<object, AccessRule>>();
  /** Session cookies carry `Secure` unless TLS=off. */
  private readonly secureCookies: boolean;

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
    private readonly refusals: AuthRefusalsService,
    private readonly tenants: TenantDirectory,
    private readonly auth: AuthService,
    @Inject(AppConfig) config: AppConfig,
    basic: BasicStrategy,
    bearer: BearerStrategy,
  ) {
    this.secureCookies = config.env.TLS !== 'off';
    this.strategies = new Map<string, BasicStrategy | BearerStrategy>([
      ['basic', basic],
      ['bearer', bearer],
    ]);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<IndiciumRequest>();
    req.handlerMatched = true;
    const required = this.accessRuleOf(context);
    if (required === PUBLIC) return true;
    if (required === undefined) {
      this.logger.error(
        `Route ${context.getClass().name}.${context.getHandler().name} declares no access rule; denied`,
      );
      throw new ForbiddenException('Access denied');
    }
    const principal = await this.authenticate(req, context.switchToHttp().getResponse());
    req.principal = principal;
    const header = req.headers[TENANT_HEADER];
    // A tenant created on another instance within the last second: read the directory first.
    if (
      !this.tenants.byId(principal.homeTenant) ||
      (typeof header === 'string' && !this.tenants.byName(header.trim()))
    )
      await this.tenants.refreshForMiss();
    req.tenant = await this.actingTenantOf(req, principal, header);
    if (req.tenant !== principal.homeTenant) {
      req.actorHome = { id: principal.homeTenant, name: this.tenants.nameOf(principal.homeTenant) };
    }
    settleTenant(req.tenant);
    if (
      req.consoleSession &&
      !SAFE_METHODS.has(req.method) &&
      !csrfTokenMatches(req.consoleSession.id, req.headers[CSRF_HEADER])
    ) {
      await this.denied(req, { csrf: 'missing or invalid' });
      throw new ForbiddenException('CSRF token missing or invalid');
    }
    if (required !== ANY_PRINCIPAL && !principal.privileges.has(required)) {
      await this.denied(req, { privilege: required });
      throw new ForbiddenException(`This operation needs the privilege "${required}"`);
    }
    return true;
  }

  /** Only the denial path pays for the audit write; allowed requests stay query-free. */
  private denied(req: IndiciumRequest, why: Record<string, string>): Promise<void> {
    return this.audit.recordEvent(auditContextOf(req), {
      action: 'access.denied',
      entityType: 'route',
      entityName: `${req.method} ${(req.route as { path?: string } | undefined)?.path ?? req.path}`,
      operation: 'access',
      outcome: 'denied',
      newValue: why,
    });
  }

  /** actingTenant; a session whose tenant is suspended (or gone) ends with the refusal. */
  private async actingTenantOf(
    req: IndiciumRequest,
    principal: Principal,
    header: string | string[] | undefined,
  ): Promise<string> {
    try {
      return this.actingTenant(principal, header);
    } catch (err) {
      const session = req.consoleSession;
      if (session && err instanceof UnauthorizedException) {
        await this.auth.endSession(session.tenantId, session.digest);
        req.res?.setHeader('WWW-Authenticate', SESSION_CHALLENGE);
        req.res?.setHeader('Set-Cookie', sessionCookie('', 0, this.secureCookies));
      }
      throw err;
    }
  }

  /**
   * The tenant the request acts in (docs/tenancy.md): the principal's home, or the tenant the
   * header names when that is the home or — for a principal holding tenants.manage — one of its
   * descendants. Anything else is "tenant not found", whether it exists or not. A principal of
   * a suspended tenant (or one below a suspended tenant) is not authenticated at all.
   */
  private actingTenant(principal: Principal, header: string | string[] | undefined): string {
    const standing = this.tenants.standing(principal.homeTenant);
    if (standing !== 'active') {
      throw new UnauthorizedException(
        standing === 'suspended' ? 'This tenant is suspended' : 'Invalid credentials',
      );
    }
    if (header === undefined) return principal.homeTenant;
    const named = typeof header === 'string' ? this.tenants.byName(header.trim()) : undefined;
    if (named?.id === principal.homeTenant) return named.id;
    if (
      named === undefined ||
      !principal.privileges.has('tenants.manage') ||
      !this.tenants.isWithin(named.id, principal.homeTenant)
    ) {
      throw new TenantNotFoundError();
    }
    return named.id;
  }

  /** The route's declared rule, read from its metadata once per route. */
  private accessRuleOf(context: ExecutionContext): AccessRule {
    const handler = context.getHandler();
    const controller = context.getClass();
    let rules = this.rules.get(controller);
    if (!rules) {
      rules = new Map<object, AccessRule>();
      this.rules.set(controller, rules);
    }
    if (!rules.has(handler)) {
      const targets = [handler, controller];
      rules.set(
        handler,
        this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)
          ? PUBLIC
          : this.reflector.getAllAndOverride<RequiredAccess | undefined>(PRIVILEGE_KEY, targets),
      );
    }
    return rules.get(handler);
  }

  private async authenticate(req: IndiciumRequest, res: Response): Promise<Principal> {
    const header = req.headers.authorization;
    if (header === undefined) {
      const cookie = sessionCookieOf(req.headers.cookie);
      if (cookie !== undefined) return this.authenticateSession(req, res, cookie);
      // The console asking before signing in (its session, or any call from a page script,
      // which browsers mark with Sec-Fetch-Mode): refused without a Basic challenge, which
      // would open the browser's own password dialog over the console's sign-in.
      if (req.path.toLowerCase().startsWith(SESSION_PATH) || isScriptFetch(req))
        res.setHeader('WWW-Authenticate', SESSION_CHALLENGE);
    }
    const space = header ? header.indexOf(' ') : -1;
    const strategy = space > 0 && this.strategies.get(header!.slice(0, space).toLowerCase());
    const principal = strategy
      ? await runStrategy(strategy, req).catch((err: unknown) => {
          if (err instanceof LockedOutException) {
            res.setHeader('Retry-After', String(err.retryAfterSeconds));
          }
          throw err instanceof Error ? err : new UnauthorizedException('Invalid credentials');
        })
      : null;
    if (!principal) {
      // A header that is there but unreadable (unknown scheme, bad encoding, no token) is
      // audited, at most once per IP and minute (with a count); a missing one is not.
      if (header !== undefined) {
        await this.refusals.refused('malformed_authorization', req.clientIp, auditContextOf(req));
      }
      throw new UnauthorizedException(AUTHENTICATION_REQUIRED);
    }
    return principal;
  }

  /**
   * The console's session cookie, when there is no Authorization header (docs/console.md):
   * a cookie that cannot be a session id is a malformed credential; a refused session clears it.
   */
  private async authenticateSession(
    req: IndiciumRequest,
    res: Response,
    id: string | null,
  ): Promise<Principal> {
    if (id === null) {
      await this.refusals.refused('malformed_authorization', req.clientIp, auditContextOf(req));
      res.setHeader('Set-Cookie', sessionCookie('', 0, this.secureCookies));
      res.setHeader('WWW-Authenticate', SESSION_CHALLENGE);
      throw new UnauthorizedException('Invalid session cookie: sign in again');
    }
    try {
      const { principal, session } = await this.auth.authenticateSession(
        id,
        req.clientIp,
        auditContextOf(req),
      );
      req.consoleSession = session;
      return principal;
    } catch (err) {
      if (err instanceof LockedOutException) {
        res.setHeader('Retry-After', String(err.retryAfterSeconds));
      } else if (err instanceof UnauthorizedException) {
        res.setHeader('Set-Cookie', sessionCookie('', 0, this.secureCookies));
        res.setHeader('WWW-Authenticate', SESSION_CHALLENGE);
      }
      throw err;
    }
  }
}

/** A fetch() or XHR from a page (not a navigation, not curl): Sec-Fetch-Mode cors or same-origin. */
function isScriptFetch(req: IndiciumRequest): boolean {
  const mode = req.headers['sec-fetch-mode'];
  return mode === 'cors' || mode === 'same-origin';
}

/**
 * One request through a passport strategy: a per-request object that inherits the strategy
 * and receives its outcome. `fail` (no or malformed credentials) resolves to null; a verify
 * callback's error (wrong secret, lockout, IP not allowed, …) rejects with it.
 */
function runStrategy(
  strategy: BasicStrategy | BearerStrategy,
  req: IndiciumRequest,
): Promise<Principal | null> {
  return new Promise((resolve, reject) => {
    const action = Object.create(strategy) as StrategyRun;
    action.success = (user) => resolve(user as Principal);
    action.fail = () => resolve(null);
    action.pass = () => resolve(null);
    action.error = reject;
    action.redirect = () => reject(new Error('an authentication strategy asked for a redirect'));
    action.authenticate(req, {});
  });
}

/** The passport-strategy protocol: `authenticate` reports through these actions on `this`. */
interface StrategyRun {
  authenticate(req: IndiciumRequest, options: object): void;
  success(user: unknown): void;
  fail(): void;
  pass(): void;
  error(err: unknown): void;
  redirect(url: string): void;
}
