import { MigrationInterface, QueryRunner } from 'typeorm';
import { SHARED_READER_ROLE } from '../tenant-context';

/**
 * Shared suppliers (docs/tenancy.md): a supplier with `sharing = 'descendants'` is offered to
 * every descendant tenant, which reads it only after subscribing (`supplier_subscriptions`, its
 * own row, with its own actionable fields). Reading another tenant's rows stays opt-in per
 * transaction: the SELECT-only policies below apply only under `indicium.view` = `shared`
 * (subscribed suppliers, their indicators and tags) or `catalogue` (every supplier an ancestor
 * shares). Those policies are for the role `indicium_shared_reader` only, which a statement in
 * such a view switches to (SET LOCAL ROLE) and which may only read: every other statement is
 * planned with `tenant_isolation` alone, its tenant an index condition as before, and no view
 * can change another tenant's rows. Each policy's subquery is uncorrelated: one InitPlan or hashed SubPlan per statement,
 * a hash probe per row.
 */
const SHARED_WITH_INDICATORS = [
  'indicator_tags',
  'tags',
  'indicator_tombstones',
  'sharing_changes',
];

export class SharedSuppliers1765526400000 implements MigrationInterface {
  name = 'SharedSuppliers1765526400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE suppliers
        ADD COLUMN sharing text NOT NULL DEFAULT 'none' CHECK (sharing IN ('none', 'descendants')),
        ADD CONSTRAINT suppliers_built_in_not_shared CHECK (sharing = 'none' OR NOT built_in)`);

    // Tiny (subscribing tenants x shared suppliers), with no index but its key, which leads
    // with tenant_id like every tenant-owned key: a shared supplier's delete cascades by a scan.
    await q.query(`
      CREATE TABLE supplier_subscriptions (
        tenant_id uuid NOT NULL DEFAULT indicium_tenant() REFERENCES tenants (id) ON DELETE RESTRICT,
        owner_tenant uuid NOT NULL,
        supplier_id uuid NOT NULL,
        subscribed boolean NOT NULL,
        actionable_fields text[],
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, supplier_id),
        FOREIGN KEY (owner_tenant, supplier_id) REFERENCES suppliers (tenant_id, id) ON DELETE CASCADE,
        CHECK (owner_tenant <> tenant_id)
      )`);
    await q.query(`ALTER TABLE supplier_subscriptions ENABLE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE supplier_subscriptions FORCE ROW LEVEL SECURITY`);
    await q.query(
      `CREATE POLICY tenant_isolation ON supplier_subscriptions
         USING (tenant_id = indicium_tenant()) WITH CHECK (tenant_id = indicium_tenant())`,
    );

    // The strict ancestors of the transaction's tenant (the tree's parents never change).
    await q.query(`
      CREATE FUNCTION indicium_ancestors() RETURNS uuid[] LANGUAGE sql STABLE PARALLEL SAFE AS $$
        WITH RECURSIVE up (id, parent_id) AS (
            SELECT id, parent_id FROM tenants WHERE id = indicium_tenant()
          UNION ALL
            SELECT t.id, t.parent_id FROM tenants t JOIN up ON t.id = up.parent_id)
        SELECT coalesce(array_agg(parent_id), '{}') FROM up WHERE parent_id IS NOT NULL
      $$`);

    // The reader: no login, no RLS bypass, SELECT only; the login role may switch to it.
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${SHARED_READER_ROLE}') THEN
          CREATE ROLE ${SHARED_READER_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
        END IF;
      END $$`);
    await q.query(`DO $$ BEGIN
        IF NOT pg_has_role(current_user, '${SHARED_READER_ROLE}', 'MEMBER') THEN
          EXECUTE format('GRANT ${SHARED_READER_ROLE} TO %I', current_user);
        END IF;
      END $$`);
    await q.query(`GRANT USAGE ON SCHEMA public TO ${SHARED_READER_ROLE}`);
    await q.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${SHARED_READER_ROLE}`);
    await q.query(`REVOKE ALL ON schema_migrations FROM ${SHARED_READER_ROLE}`);
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${SHARED_READER_ROLE}`,
    );

    await q.query(`
      CREATE POLICY shared_read ON suppliers FOR SELECT TO ${SHARED_READER_ROLE} USING (
        current_setting('indicium.view', true) IN ('shared', 'catalogue')
        AND sharing = 'descendants'
        AND tenant_id IN (SELECT unnest(indicium_ancestors()))
        AND (current_setting('indicium.view', true) = 'catalogue'
             OR id IN (SELECT supplier_id FROM supplier_subscriptions WHERE subscribed)))`);
    await q.query(`
      CREATE POLICY shared_read ON indicators FOR SELECT TO ${SHARED_READER_ROLE} USING (
        current_setting('indicium.view', true) = 'shared'
        AND (tenant_id, supplier_id) IN (SELECT s.tenant_id, s.id FROM suppliers s
                                          WHERE s.sharing = 'descendants'))`);
    // Tags travel with shared indicators (the owner's tag links and names, read through them);
    // so do their tombstones (TAXII) and the change log that versions a blocklist.
    for (const table of SHARED_WITH_INDICATORS)
      await q.query(`
        CREATE POLICY shared_read ON ${table} FOR SELECT TO ${SHARED_READER_ROLE} USING (
          current_setting('indicium.view', true) = 'shared'
          AND tenant_id IN (SELECT s.tenant_id FROM suppliers s WHERE s.sharing = 'descendants'))`);

    // A key feed row's scope is a tenant's id, or `shared:<id>` for its shared suppliers' keys.
    await q.query(`ALTER TABLE search_key_changes ALTER COLUMN scope TYPE text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM search_key_changes WHERE scope LIKE 'shared:%'`);
    await q.query(`ALTER TABLE search_key_changes ALTER COLUMN scope TYPE uuid USING scope::uuid`);
    for (const table of [...SHARED_WITH_INDICATORS, 'indicators', 'suppliers'])
      await q.query(`DROP POLICY shared_read ON ${table}`);
    await q.query(`DROP FUNCTION indicium_ancestors()`);
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM ${SHARED_READER_ROLE}`,
    );
    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${SHARED_READER_ROLE}`);
    await q.query(`REVOKE USAGE ON SCHEMA public FROM ${SHARED_READER_ROLE}`);
    await q.query(`DROP TABLE supplier_subscriptions`);
    await q.query(
      `ALTER TABLE suppliers DROP CONSTRAINT suppliers_built_in_not_shared, DROP COLUMN sharing`,
    );
  }
}
