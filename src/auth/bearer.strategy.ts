import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as PassportBearer } from 'passport-http-bearer';
import { auditContextOf } from '../audit/audit-context';
import { AuthService } from './auth.service';
import type { IndiciumRequest, Principal } from './principal';

/** `Authorization: Bearer <access_token>` (RFC 6750), for tokens from POST /api/v1/oauth/token. */
@Injectable()
export class BearerStrategy extends PassportStrategy(PassportBearer, 'bearer') {
  constructor(private readonly auth: AuthService) {
    super({ passReqToCallback: true, realm: 'indicium' });
  }

  validate(req: IndiciumRequest, token: string): Promise<Principal> {
    return this.auth.authenticateBearer(token, req.clientIp, auditContextOf(req));
  }
}
