import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sql, type PreparedStatement } from '../src/database/sql';
import { inTenant } from '../src/database/tenant-context';
import { RetroRepository } from '../src/detections/retro.repository';
import { SearchRepository } from '../src/search/search.repository';
import { SharingRepository, type BlocklistFilter } from '../src/sharing/sharing.repository';
import { createTestApp, ownerDb, TestApp } from './support/test-app';
import { asRoot } from './api/client';

/**
 * The SQL of the hot and complex queries, as the code really sends it, committed in `sql/` so
 * that a reviewer sees the SQL a change produces. Each query runs against the real database
 * (so it is valid SQL with the parameters it is given), and the statements it issued are
 * captured in its own async context (background work never lands in a snapshot).
 *
 * Stale snapshots fail; `npm run sql:snapshots` writes them again.
 */
const SQL_DIR = join(__dirname, '..', 'sql');
const UPDATE = process.env.UPDATE_SQL_SNAPSHOTS === '1' && process.env.CI !== 'true';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Which capture a statement belongs to. */
const capturing = new AsyncLocalStorage<string[]>();

/** Trailing blanks off, the common indentation of the continuation lines off, ids masked. */
function tidy(text: string): string {
  const lines = text.replace(UUID, '<uuid>').split('\n');
  const rest = lines.slice(1).filter((l) => l.trim() !== '');
  const indent = Math.min(...rest.map((l) => l.length - l.trimStart().length), Infinity);
  const out = [lines[0].trim(), ...lines.slice(1).map((l) => l.slice(Math.min(indent, l.length)))];
  return out
    .map((l) => l.trimEnd())
    .filter((l, i, a) => l !== '' || a[i - 1] !== '')
    .join('\n')
    .trim();
}

describe('SQL snapshots (sql/*.sql)', () => {
  let t: TestApp;
  const files = new Map<string, string[]>();
  const restore: Array<() => void> = [];

  /** Runs `work` and files the statements it sent under `title` in `file`. */
  async function snap(file: string, title: string, work: () => Promise<unknown>): Promise<void> {
    const sent: string[] = [];
    await capturing.run(sent, work);
    expect(sent.length).toBeGreaterThan(0);
    const body = [...new Set(sent.map(tidy))].map((s) => `${s};`).join('\n\n');
    files.set(file, [...(files.get(file) ?? []), `-- ${title}\n${body}`]);
  }

  /** Files a statement the code builds as text (COPY selects) under `title`. */
  function text(file: string, title: string, sql: string): void {
    files.set(file, [...(files.get(file) ?? []), `-- ${title}\n${tidy(sql)};`]);
  }

  let ids: Record<string, string>;
  let suppliers: Record<string, string>;

  beforeAll(async () => {
    // Our own helper's entry points only record the text, then run the real statement.
    const proto = Sql.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const method of ['run', 'prepared']) {
      const original = proto[method];
      proto[method] = function (this: unknown, ...args: unknown[]) {
        const first = args[0] as string | PreparedStatement<unknown>;
        capturing.getStore()?.push(typeof first === 'string' ? first : first.text);
        return original.apply(this, args);
      };
      restore.push(() => (proto[method] = original));
    }

    t = await createTestApp({ SEARCH_INDEX: 'off' });
    const root = asRoot(t);
    await root.post('/api/v1/tenants', { name: 'child' }).expect(201);
    await root.post('/api/v1/tags', { name: 'C2', weight: 4 }).expect(201);
    await root.post('/api/v1/suppliers', { name: 'Feed', sharing: 'descendants' }).expect(201);
    await root
      .put('/api/v1/suppliers/Feed/indicators', [
        { indicator: '192.0.2.0/25', tags: ['C2'] },
        { indicator: '198.51.100.7' },
        { indicator: 'bad.example' },
      ])
      .expect(200);
    const child = root.in('child');
    await child.put('/api/v1/shared-suppliers/Feed', { subscribed: true }).expect(200);
    const byName = (rows: Array<{ name: string; id: string }>) =>
      Object.fromEntries(rows.map((r) => [r.name, r.id]));
    const db = ownerDb(t);
    ids = byName(await db.query(`SELECT name, id FROM tenants`));
    suppliers = byName(
      await db.query(`SELECT name, id FROM suppliers WHERE tenant_id = $1`, [ids.default]),
    );
  });

  afterAll(async () => {
    for (const undo of restore) undo();
    await t?.close();
  });

  it('search: lookups by key, within, prefix lengths; own tenant and shared', async () => {
    const search = t.app.get(SearchRepository);
    const keys = [
      ['bad.example', '198.51.100.7'],
      ['domain', 'ip'],
    ] as const;
    for (const [who, tenants] of [
      ['own tenant', () => [ids.default]],
      [
        'a subscriber (its own tenant and the ancestor that shares)',
        () => [ids.child, ids.default],
      ],
    ] as const) {
      const tenant = tenants()[0];
      await snap('search.sql', `findByKeys, ${who}`, () =>
        inTenant(tenant, () => search.findByKeys([...keys[0]], [...keys[1]], tenants())),
      );
      await snap('search.sql', `findWithin, ${who}`, () =>
        inTenant(tenant, () => search.findWithin(['192.0.2.0/24'], 11, tenants())),
      );
      await snap('search.sql', `prefixLengths, ${who}`, () =>
        inTenant(tenant, () => search.prefixLengths(tenants())),
      );
    }
  });

  it('sharing: blocklist, TAXII page, export', async () => {
    const sharing = t.app.get(SharingRepository);
    const filter: BlocklistFilter = {
      types: ['ip', 'cidr', 'domain'],
      supplierIds: [suppliers.Feed],
      tenantIds: [ids.default],
      minConfidence: 0,
      confidentSupplierIds: [suppliers.Feed],
      tagIds: null,
    };
    await snap('sharing.sql', 'blocklistBatch (keyset path), own tenant', () =>
      inTenant(ids.default, () => sharing.blocklistBatch(filter, null, 1000)),
    );
    await snap('sharing.sql', 'falsePositiveBatch', () =>
      inTenant(ids.default, () => sharing.falsePositiveBatch(null, 1000)),
    );
    text('sharing.sql', 'blocklistSelect (COPY path)', sharing.blocklistSelect(filter, null));
    await snap('sharing.sql', 'taxiiPage, a subscriber reading the shared collection', () =>
      inTenant(ids.child, async () =>
        sharing.taxiiPage({
          supplierId: suppliers.Feed,
          tenantId: ids.default,
          supplierConfidence: 50,
          after: null,
          horizon: await sharing.taxiiHorizon(),
          limit: 100,
          keys: null,
        }),
      ),
    );
    text(
      'sharing.sql',
      'exportSelect json-lines (COPY path)',
      sharing.exportSelect('json-lines', suppliers.Feed, 50),
    );
  });

  it('detections: the retro-scan of a committed write', async () => {
    const retro = t.app.get(RetroRepository);
    await snap('detections.sql', 'RetroRepository.scan', () =>
      inTenant(ids.default, () => retro.scan(suppliers.Feed, new Date(0), 60_000)),
    );
  });

  it('match the committed sql/*.sql (npm run sql:snapshots writes them)', () => {
    for (const [file, sections] of files) {
      const header =
        `-- Generated by test/sql-snapshots.e2e.spec.ts (npm run sql:snapshots): the SQL these\n` +
        `-- queries send, for review. Do not edit by hand.\n\n`;
      const want = `${header}${sections.join('\n\n')}\n`;
      const path = join(SQL_DIR, file);
      if (UPDATE) writeFileSync(path, want);
      let have = '';
      try {
        have = readFileSync(path, 'utf8');
      } catch {
        // missing: reported below
      }
      if (have !== want)
        throw new Error(`sql/${file} is stale: run npm run sql:snapshots and review the diff`);
    }
  });
});
