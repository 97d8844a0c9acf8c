import type { Request } from 'express';

/** Who is calling, as far as cross-cutting code needs to know; auth attaches the full principal. */
interface CallerIdentity {
  type: 'user' | 'client';
  id: string;
  name: string;
}

/** What the pipeline attaches to an Express request (`P`: the principal type auth attaches). */
export interface IndiciumRequest<P extends CallerIdentity = CallerIdentity> extends Request {
  id: string;
  clientIp: string;
  principal?: P;
  /** The id of the tenant the request acts in, once authentication decided it. */
  tenant?: string;
  /** The principal's home tenant, when the request acts in another one. */
  actorHome?: { id: string; name: string };
  /** Set once a controller route matched (by the guard, which runs first for every route). */
  handlerMatched?: boolean;
}
