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

/** What the pipeline attaches to an Express request, with the principal auth attaches. */
export type IndiciumRequest = PipelineRequest<Principal>;
