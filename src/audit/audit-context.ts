import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { IndiciumRequest } from '../common/request';

/** Who did it, from where: the request side of an audit record (docs/api.md §6). */
export interface AuditContext {
  actorType: 'user' | 'client' | 'anonymous';
  actorId: string | null;
  actorName: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** A principal acting outside its home tenant: that home (its audit gets the record too). */
  actorHome?: { id: string; name: string };
}

const MAX_USER_AGENT = 512;

/** The audit context of a request: its principal (anonymous before authentication), IP, UA, id. */
export function auditContextOf(req: IndiciumRequest, claimedName?: string): AuditContext {
  const p = req.principal;
  const ua = req.headers['user-agent'];
  return {
    actorType: p ? p.type : 'anonymous',
    actorId: p ? p.id : null,
    actorName: p ? p.name : (claimedName ?? null),
    ip: req.clientIp ?? null,
    userAgent: typeof ua === 'string' ? ua.slice(0, MAX_USER_AGENT) : null,
    requestId: req.id ?? null,
    ...(req.actorHome ? { actorHome: req.actorHome } : {}),
  };
}

/** Controller parameter: the AuditContext of the current request, for service methods that audit. */
export const AuditCtx = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuditContext =>
    auditContextOf(ctx.switchToHttp().getRequest<IndiciumRequest>()),
);

/** An unauthenticated caller known only by its IP and the name it claimed. */
export function anonymousContext(
  ip: string | null,
  claimedName: string | null = null,
): AuditContext {
  return {
    actorType: 'anonymous',
    actorId: null,
    actorName: claimedName,
    ip,
    userAgent: null,
    requestId: null,
  };
}
