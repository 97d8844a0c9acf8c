// The console's one API client: typed fetch over the public API (docs/api.md), with the
// session's CSRF token on writes and the tenant switcher's choice in X-Indicium-Tenant.

export type Privilege =
  | 'search'
  | 'suppliers.read'
  | 'suppliers.write'
  | 'indicators.read'
  | 'indicators.write'
  | 'tags.read'
  | 'tags.write'
  | 'users.manage'
  | 'roles.manage'
  | 'clients.manage'
  | 'audit.read'
  | 'siem.manage'
  | 'metrics.read'
  | 'detections.read'
  | 'tenants.manage';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export interface Session {
  csrfToken: string;
  expiresAt: string;
  tenant: string;
}
export interface Me {
  type: 'user' | 'client';
  id: string;
  name: string;
  role: string;
  privileges: Privilege[];
}
interface TagRef {
  name: string;
  weight: number;
}
type Context = Record<string, unknown>;
export interface Match {
  supplier: string;
  vendor: string;
  indicator: string;
  indicatorType: string;
  matchedBy: string;
  confidence: number;
  context: Context;
  actionable: Context;
  tags: TagRef[];
  sharedBy?: string;
}
export interface SearchResult {
  value: unknown;
  type?: string;
  normalized: string | null;
  result: 'detected' | 'not_detected' | 'false_positive' | 'invalid';
  matches: Match[];
  falsePositive: Match | null;
  matchesTruncated: boolean;
  reason?: string;
}
export interface Supplier {
  name: string;
  vendor: string;
  description: string;
  status: 'enabled' | 'disabled';
  confidence: number;
  retentionMinutes: number;
  actionableFields: string[];
  sharing: 'none' | 'descendants';
  builtIn: boolean;
  indicatorCount: number;
  createdAt: string;
  updatedAt: string;
  /** The feed's summary, on servers that include it in supplier reads (null: no feed). */
}
interface FeedCounts {
  fetched: number;
  created: number;
  updated: number;
  removed: number;
  rejected: number;
}
export interface Feed {
  url: string;
  format: 'stix21' | 'taxii21' | 'misp' | 'csv' | 'text';
  mode: 'replace' | 'merge';
  intervalMinutes: number;
  enabled: boolean;
  state: 'idle' | 'running';
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  lastOutcome: 'applied' | 'not_modified' | 'failed' | null;
  lastError: string | null;
  lastCounts: FeedCounts | null;
  nextRunAt: string | null;
}
export interface FeedRun {
  id: string;
  startedAt: string;
  finishedAt: string;
  outcome: string;
  error: string | null;
  counts: FeedCounts;
  rejectedSample: { indicator: string | null; reason: string }[];
}
export interface Indicator {
  id: string;
  indicator: string;
  type: string;
  context: Context;
  tags: TagRef[];
  confidence: number | null;
  expiresAt: string | null;
  updatedAt: string;
  hits: number;
  lastHitAt: string | null;
}
export interface UploadResult {
  processed: number;
  created: number;
  updated: number;
  failed: { index: number; indicator: string | null; reason: string }[];
}
export interface SharedSupplier {
  name: string;
  owner: string;
  description: string;
  confidence: number;
  subscribed: boolean;
  actionableFields: string[];
}
export interface Tag {
  name: string;
  weight: number;
  description: string;
  color: string | null;
  indicatorCount: number;
}
export interface Detection {
  id: number;
  at: string;
  value: string;
  type: string;
  result: string;
  principal: string;
  supplier: string;
  indicator: string;
  indicatorType: string;
  matchedBy: string;
  context: Context;
  retro: boolean;
}
export interface IpRestriction {
  mode: 'allow_all' | 'restricted';
  allowedIps: string[];
}
export interface ApiClient {
  id: string;
  name: string;
  clientId: string;
  role: string;
  ipRestriction: IpRestriction;
  status: 'active' | 'inactive';
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
}
export interface User {
  id: string;
  username: string;
  role: string;
  status: 'active' | 'inactive';
  createdAt: string;
  lastLoginAt: string | null;
}
export interface Role {
  name: string;
  description: string;
  builtIn: boolean;
  privileges: Privilege[];
}
export interface PrivilegeInfo {
  name: Privilege;
  description: string;
}
export interface SiemIntegration {
  id: string;
  name: string;
  type: 'syslog' | 'webhook';
  enabled: boolean;
  lastDeliveredAt: string | null;
  lastError: string | null;
  backlog: number;
  detectionBacklog: number;
}
export interface AuditRecord {
  id: string;
  sequence: number;
  timestamp: string;
  actorType: string;
  actorName: string | null;
  action: string;
  entityType: string;
  entityName: string | null;
  outcome: string;
  ip: string | null;
}
export interface AuditVerify {
  valid: boolean;
  checked?: number;
  brokenAt?: number;
}
export interface SupplierStatistics {
  supplier: string;
  indicators: number;
  hitLast24h: number;
  hitLast7d: number;
  hitLast30d: number;
  hits: number;
  neverHitShare: number;
  overlap: { supplier: string; indicators: number }[];
}
export interface Tenant {
  id: string;
  name: string;
  displayName: string;
  parent: string | null;
  status: 'active' | 'suspended';
  createdAt: string;
}

/** An API error, its message already a sentence for people. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TENANT_KEY = 'indicium.tenant';
let csrfToken = '';
let unauthorizedHandler: () => void = () => undefined;

export const setCsrfToken = (token: string): void => {
  csrfToken = token;
};
export const onUnauthorized = (handler: () => void): void => {
  unauthorizedHandler = handler;
};
/** The tenant the switcher chose, or null for the home tenant. */
export const selectedTenant = (): string | null => sessionStorage.getItem(TENANT_KEY);
export const selectTenant = (name: string | null): void => {
  if (name) sessionStorage.setItem(TENANT_KEY, name);
  else sessionStorage.removeItem(TENANT_KEY);
};

type Query = Record<string, string | number | undefined | null>;
interface Options {
  query?: Query;
  body?: unknown;
  /** Act in the home tenant whatever the switcher says. */
  home?: boolean;
  /** A 401 is an answer (signing in), not an expired session. */
  noRedirect?: boolean;
}

export function apiUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = 'error';
  let message = `The server answered ${res.status} ${res.statusText}.`.replace(' .', '.');
  try {
    const body = (await res.json()) as { code?: string; message?: unknown; details?: unknown; error?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string' && body.message) message = body.message;
    else if (typeof body.error === 'string') message = body.error;
    if (Array.isArray(body.details) && body.details.length > 1)
      message = body.details.map((d) => (typeof d === 'string' ? d : JSON.stringify(d))).join('; ');
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 429) message = `${message} Try again in ${res.headers.get('Retry-After') ?? 'a few'} seconds.`;
  message = message.charAt(0).toUpperCase() + message.slice(1);
  return new ApiError(res.status, code, /[.!?]$/.test(message) ? message : `${message}.`);
}

/** Sends a request; the raw Response for callers that read something other than JSON. */
export async function send(method: string, path: string, opts: Options = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-Indicium-CSRF'] = csrfToken;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const tenant = selectedTenant();
  if (tenant && !opts.home) headers['X-Indicium-Tenant'] = tenant;
  let res: Response;
  try {
    res = await fetch(apiUrl(path, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check the connection and try again.');
  }
  if (res.ok) return res;
  if (res.status === 401 && !opts.noRedirect) unauthorizedHandler();
  throw await errorOf(res);
}

async function request<T>(method: string, path: string, opts: Options = {}): Promise<T> {
  const res = await send(method, path, opts);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string, query?: Query, opts: Options = {}): Promise<T> => request<T>('GET', path, { ...opts, query });
export const post = <T>(path: string, body?: unknown): Promise<T> => request<T>('POST', path, { body });
export const put = <T>(path: string, body?: unknown): Promise<T> => request<T>('PUT', path, { body });
export const patch = <T>(path: string, body?: unknown): Promise<T> => request<T>('PATCH', path, { body });
export const del = <T = void>(path: string, body?: unknown): Promise<T> => request<T>('DELETE', path, { body });
export const enc = encodeURIComponent;

/** A page of a list endpoint. */
export const page = <T>(path: string, cursor: string | null, query: Query = {}, limit = 50): Promise<Page<T>> =>
  get<Page<T>>(path, { ...query, limit, cursor });

/** Every item of a list (for small lists: roles, tenants), at most `max`. */
export async function all<T>(path: string, opts: Options = {}, max = 5000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const p: Page<T> = await get<Page<T>>(path, { limit: 1000, cursor }, opts);
    out.push(...p.items);
    cursor = p.nextCursor;
  } while (cursor && out.length < max);
  return out;
}

// Sessions (docs/console.md).
export const session = {
  get: () => get<Session>('/session', undefined, { noRedirect: true, home: true }),
  signIn: (username: string, password: string) =>
    request<void>('POST', '/session', { body: { username, password }, noRedirect: true, home: true }),
  signOut: () => request<void>('DELETE', '/session', { noRedirect: true, home: true }),
};
export const me = () => get<Me>('/me', undefined, { noRedirect: true });

/** A feed as GET /feeds lists it: the feed and its supplier's name. */
export interface FeedOfSupplier extends Feed {
  supplier: string;
}

/** Every feed of the tenant by supplier name (one request: feeds are few). */
export async function feedsByName(): Promise<Map<string, FeedOfSupplier>> {
  return new Map((await all<FeedOfSupplier>('/feeds', {}, 10_000)).map((f) => [f.supplier, f]));
}

