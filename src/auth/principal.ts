import type { IndiciumRequest as PipelineRequest } from '../common/request';
import type { Privilege } from './privileges';

/** Who is calling: a person (user) or an integration (API client). */
export interface Principal {
  type: 'user' | 'client';
  id: string;
  /** The tenant it belongs to; it acts there or, with tenants.manage, in a descendant. */
  homeTenant: string;
  name: string;
  role: string;
  privileges: ReadonlySet<Privilege>;
}

/** The console session a request was authenticated with (docs/console.md, "Sessions"). */
export interface ActiveSession {
  /** The id from the cookie: the CSRF token derives from it; never logged or stored. */
  id: string;
  /** SHA-256 of the id: the stored key. */
  digest: string;
  tenantId: string;
  /** Epoch ms: the earlier of the idle and the absolute expiry, counted from this request. */
  expiresAt: number;
}

/** What the pipeline attaches to an Express request, with the principal auth attaches. */
export type IndiciumRequest = PipelineRequest<Principal> & {
  /** Set when the request was authenticated by the session cookie (not Basic or Bearer). */
  consoleSession?: ActiveSession;
};
