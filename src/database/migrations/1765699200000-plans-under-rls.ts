import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two costs row-level security added to the search path (docs/tenancy.md, "Row-level security
 * and the planner"):
 *
 * - The distinct CIDR prefix lengths (search.repository.ts, PREFIX_LENGTHS) come from one
 *   partial index per address family instead of `(tenant_id, family(network), prefix_len)`.
 *   Under RLS a condition on `family(network)` (not leakproof) is checked after the policy, so
 *   it could not be that index's condition and each step of the loose index scan read every
 *   CIDR of the tenant; a partial index's predicate is proved from the query, not evaluated,
 *   so `family(network) = 4` still selects it.
 * - `indicium_ancestors()`, which the sharing policies call once per policy in a statement,
 *   becomes PL/pgSQL: a SQL function's recursive query was planned again on every call
 *   (~0.2 ms, three or four times per shared lookup); PL/pgSQL keeps its plan per session.
 */
export class PlansUnderRls1765699200000 implements MigrationInterface {
  name = 'PlansUnderRls1765699200000';

  async up(q: QueryRunner): Promise<void> {
    for (const family of [4, 6])
      await q.query(
        `CREATE INDEX indicators_cidr${family}_prefix_idx ON indicators (tenant_id, prefix_len)
          WHERE type = 'cidr' AND family(network) = ${family}`,
      );
    await q.query(`DROP INDEX indicators_cidr_prefix_idx`);
    // The strict ancestors of the transaction's tenant, nearest first (parents never change).
    await q.query(`
      CREATE OR REPLACE FUNCTION indicium_ancestors() RETURNS uuid[]
        LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
      DECLARE
        up uuid[] := '{}';
        cur uuid := indicium_tenant();
      BEGIN
        LOOP
          SELECT parent_id INTO cur FROM tenants WHERE id = cur;
          EXIT WHEN cur IS NULL;
          up := up || cur;
        END LOOP;
        RETURN up;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION indicium_ancestors() RETURNS uuid[]
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
        WITH RECURSIVE up (id, parent_id) AS (
            SELECT id, parent_id FROM tenants WHERE id = indicium_tenant()
          UNION ALL
            SELECT t.id, t.parent_id FROM tenants t JOIN up ON t.id = up.parent_id)
        SELECT coalesce(array_agg(parent_id), '{}') FROM up WHERE parent_id IS NOT NULL
      $$`);
    await q.query(
      `CREATE INDEX indicators_cidr_prefix_idx ON indicators (tenant_id, family(network), prefix_len)
        WHERE type = 'cidr'`,
    );
    for (const family of [4, 6]) await q.query(`DROP INDEX indicators_cidr${family}_prefix_idx`);
  }
}
