import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { BasicStrategy as PassportBasic } from 'passport-http';
import { auditContextOf } from '../audit/audit-context';
import { AuthService } from './auth.service';
import type { IndiciumRequest, Principal } from './principal';

/** HTTP Basic (RFC 7617) through passport-http: `username:password` or `clientId:clientSecret`. */
@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasic, 'basic') {
  constructor(private readonly auth: AuthService) {
    super({ passReqToCallback: true, realm: 'indicium' });
  }

  validate(req: IndiciumRequest, name: string, secret: string): Promise<Principal> {
    return this.auth.authenticateBasic(name, secret, req.clientIp, auditContextOf(req, name));
  }
}
