import type { Test } from 'supertest';
import { basic, type TestApp } from '../support/test-app';

/** The header that names the tenant a request acts in (docs/api.md §12). */
export const TENANT_HEADER = 'X-Indicium-Tenant';

/**
 * Requests as one principal, optionally acting in a tenant: the credentials and the tenant
 * are set once, here, instead of on every request of a spec. Each method returns supertest's
 * request, so a spec still chains `.expect(…)`, `.set(…)` or `.query(…)`.
 */
export interface Api {
  /** The `Authorization` header value used. */
  readonly auth: string;
  get(path: string): Test;
  post(path: string, body?: object): Test;
  /** A JSON body (an object or an array, sent as application/json). */
  put(path: string, body?: unknown): Test;
  patch(path: string, body?: object): Test;
  delete(path: string): Test;
  /** The same principal acting in `tenant`. */
  in(tenant: string): Api;
}

/** Requests with the `Authorization` value `auth` (see `basic`), in `tenant` when given. */
export function asUser(t: TestApp, auth: string, tenant?: string): Api {
  const req = (r: Test): Test => {
    r.set('Authorization', auth);
    return tenant === undefined ? r : r.set(TENANT_HEADER, tenant);
  };
  return {
    auth,
    get: (path) => req(t.api().get(path)),
    post: (path, body) => {
      const r = req(t.api().post(path));
      return body === undefined ? r : r.send(body);
    },
    put: (path, body) => {
      const r = req(t.api().put(path));
      return body === undefined
        ? r
        : r.set('Content-Type', 'application/json').send(JSON.stringify(body));
    },
    patch: (path, body) => {
      const r = req(t.api().patch(path));
      return body === undefined ? r : r.send(body);
    },
    delete: (path) => req(t.api().delete(path)),
    in: (other) => asUser(t, auth, other),
  };
}

/** Requests as the user `name` with `password` (Basic). */
export function asBasic(t: TestApp, name: string, password: string, tenant?: string): Api {
  return asUser(t, basic(name, password), tenant);
}

/** Requests as the initial administrator of the test app (in `default`, the root tenant). */
export function asRoot(t: TestApp, tenant?: string): Api {
  return asBasic(t, t.admin.username, t.admin.password, tenant);
}
