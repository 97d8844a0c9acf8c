import type { Request } from 'express';
import type { Privilege } from './privileges';

/** Who is calling: a person (user) or an integration (API client). */
export interface Principal {
  type: 'user' | 'client';
  id: string;
  name: string;
  role: string;
  privileges: ReadonlySet<Privilege>;
}

/** What the pipeline attaches to an Express request. */
export interface IndiciumRequest extends Request {
  id: string;
  clientIp: string;
  principal?: Principal;
  /** Set once a controller route matched (by the guard, which runs first for every route). */
  handlerMatched?: boolean;
}
