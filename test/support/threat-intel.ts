import { basic, TestApp } from './test-app';

/** An item of GET …/indicators. */
export interface IndicatorItem {
  id: string;
  indicator: string;
  type: string;
  context: Record<string, unknown>;
  tags: Array<{ name: string; weight: number }>;
  confidence: number | null;
  firstSeen: string | null;
  lastSeen: string | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A page of any list endpoint. */
export interface PageBody<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AuditItem {
  action: string;
  entityType: string;
  entityName: string | null;
  operation: string;
  newValue: unknown;
  oldValue: unknown;
}

/** Helpers shared by the supplier, indicator and tag specs. */
export function threatIntel(t: TestApp) {
  const admin = basic(t.admin.username, t.admin.password);

  async function createAnalyst(username: string): Promise<string> {
    const password = 'correct horse battery';
    const res = await t
      .api()
      .post('/api/v1/users')
      .set('Authorization', admin)
      .send({ username, password, role: 'Analyst' });
    if (res.status !== 201) throw new Error(`analyst: ${res.status} ${JSON.stringify(res.body)}`);
    return basic(username, password);
  }

  async function createSupplier(name: string, extra: Record<string, unknown> = {}) {
    const res = await t
      .api()
      .post('/api/v1/suppliers')
      .set('Authorization', admin)
      .send({ name, ...extra });
    if (res.status !== 201) throw new Error(`supplier: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { name: string; indicatorCount: number };
  }

  async function createTag(name: string, extra: Record<string, unknown> = {}) {
    const res = await t
      .api()
      .post('/api/v1/tags')
      .set('Authorization', admin)
      .send({ name, ...extra });
    if (res.status !== 201) throw new Error(`tag: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { name: string };
  }

  /** PUT …/indicators with a JSON array (or NDJSON lines). */
  function upload(supplier: string, entries: unknown[] | string, ndjson = false) {
    const body =
      typeof entries === 'string'
        ? entries
        : ndjson
          ? entries.map((e) => JSON.stringify(e)).join('\n')
          : JSON.stringify(entries);
    return t
      .api()
      .put(`/api/v1/suppliers/${supplier}/indicators`)
      .set('Authorization', admin)
      .set('Content-Type', ndjson ? 'application/x-ndjson' : 'application/json')
      .send(body);
  }

  async function listAll(supplier: string, query: Record<string, string | number> = {}) {
    const items: IndicatorItem[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: PageBody<IndicatorItem> } = await t
        .api()
        .get(`/api/v1/suppliers/${supplier}/indicators`)
        .query({ limit: 1000, ...query, ...(cursor ? { cursor } : {}) })
        .set('Authorization', admin);
      if (res.status !== 200) throw new Error(`list: ${res.status} ${JSON.stringify(res.body)}`);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items;
  }

  async function supplier(name: string) {
    const res = await t.api().get(`/api/v1/suppliers/${name}`).set('Authorization', admin);
    return res.body as { name: string; indicatorCount: number; retentionMinutes: number };
  }

  async function auditActions(action: string) {
    const res = await t
      .api()
      .get('/api/v1/audit-logs')
      .query({ action, limit: 1000 })
      .set('Authorization', admin);
    return (res.body as PageBody<AuditItem>).items;
  }

  return {
    admin,
    createAnalyst,
    createSupplier,
    createTag,
    upload,
    listAll,
    supplier,
    auditActions,
  };
}
