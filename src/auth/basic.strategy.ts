import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { StrategyCreatedStatic } from 'passport';
import { BasicStrategy as PassportBasic } from 'passport-http';
import { auditContextOf } from '../audit/audit-context';
import { auditableName } from './auditable-name';
import { AuthService } from './auth.service';
import type { IndiciumRequest, Principal } from './principal';

const REALM = 'indicium';
const BASIC = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;
// eslint-disable-next-line no-control-regex -- RFC 7617 §2: no control characters in either part
const CONTROL = /[\u0000-\u001f\u007f]/;

/** HTTP Basic (RFC 7617) through passport-http: `username:password` or `clientId:clientSecret`. */
@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasic, 'basic') {
  constructor(private readonly auth: AuthService) {
    super({ passReqToCallback: true, realm: REALM });
  }

  validate(req: IndiciumRequest, name: string, secret: string): Promise<Principal> {
    return this.auth.authenticateBasic(
      name,
      secret,
      req.clientIp,
      auditContextOf(req, auditableName(name)),
    );
  }

  /**
   * Reads the header as RFC 7617 says: UTF-8, the user-id ends at the first colon and the
   * password runs to the end, neither may hold a control character. passport-http's own
   * parser splits at every colon, so a password containing one was cut short and never matched.
   */
  override authenticate(this: BasicStrategy & StrategyCreatedStatic, req: IndiciumRequest): void {
    const encoded = BASIC.exec(req.headers.authorization ?? '')?.[1];
    const decoded = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1 || colon === decoded.length - 1 || CONTROL.test(decoded)) {
      return this.fail(`Basic realm="${REALM}"`, 401);
    }
    this.validate(req, decoded.slice(0, colon), decoded.slice(colon + 1)).then(
      (principal) => this.success(principal),
      (err: unknown) => this.error(err as Error),
    );
  }
}
