import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE, DEFAULT_TENANT_ID } from '../tenant-context';

/**
 * Tenants (docs/tenancy.md): every tenant-owned table gains `tenant_id` (existing rows go to
 * the built-in `default`), its keys and indexes lead with it, composite foreign keys keep a
 * row's references inside its tenant, and row-level security — enabled and forced — shows a
 * statement only the rows of the tenant its transaction set (`indicium.tenant`); with none set
 * the statement fails. The application runs as `indicium_app`, a role that owns nothing and
 * cannot bypass RLS. Platform-wide names (usernames, client ids, token digests) live in
 * `principal_names`, so authentication can find a principal's home tenant before it has one.
 */

/** Tenant-owned tables: each gets `tenant_id`, RLS and the isolation policy. */
const OWNED = [
  'roles',
  'users',
  'api_clients',
  'api_client_tokens',
  'audit_log',
  'audit_chain_anchor',
  'suppliers',
  'indicators',
  'indicator_tags',
  'indicator_hits',
  'indicator_tombstones',
  'tags',
  'feeds',
  'feed_runs',
  'siem_integrations',
  'detections',
  'retro_values',
  'retro_keys',
  'sharing_changes',
];

/** Tables whose rows reference the tenant directly (the others through a composite key). */
const ROOTS = [
  'roles',
  'suppliers',
  'tags',
  'siem_integrations',
  'audit_log',
  'audit_chain_anchor',
  'detections',
  'retro_values',
  'sharing_changes',
];

/** Old foreign keys, dropped before the keys they point at are rebuilt. */
const OLD_FOREIGN_KEYS: Array<[string, string]> = [
  ['api_client_tokens', 'api_client_tokens_client_id_fkey'],
  ['api_clients', 'api_clients_role_fkey'],
  ['feed_runs', 'feed_runs_supplier_id_fkey'],
  ['feeds', 'feeds_supplier_id_fkey'],
  ['indicator_hits', 'indicator_hits_indicator_id_fkey'],
  ['indicator_tags', 'indicator_tags_indicator_id_fkey'],
  ['indicator_tags', 'indicator_tags_tag_id_fkey'],
  ['indicators', 'indicators_supplier_id_fkey'],
  ['retro_keys', 'retro_keys_value_id_fkey'],
  ['users', 'users_role_fkey'],
];

/** Primary and unique keys, rebuilt with `tenant_id` first. */
const KEYS: Array<[string, string, string]> = [
  ['roles', 'roles_pkey', 'PRIMARY KEY (tenant_id, name)'],
  ['users', 'users_pkey', 'PRIMARY KEY (tenant_id, id)'],
  ['api_clients', 'api_clients_pkey', 'PRIMARY KEY (tenant_id, id)'],
  ['api_client_tokens', 'api_client_tokens_pkey', 'PRIMARY KEY (tenant_id, token_hash)'],
  ['audit_log', 'audit_log_pkey', 'PRIMARY KEY (tenant_id, sequence)'],
  ['audit_log', 'audit_log_id_key', 'UNIQUE (tenant_id, id)'],
  ['audit_chain_anchor', 'audit_chain_anchor_pkey', 'PRIMARY KEY (tenant_id, singleton)'],
  ['suppliers', 'suppliers_pkey', 'PRIMARY KEY (tenant_id, id)'],
  ['indicators', 'indicators_pkey', 'PRIMARY KEY (tenant_id, id)'],
  ['indicators', 'indicators_identity_key', 'UNIQUE (tenant_id, value, type, supplier_id)'],
  ['indicator_tags', 'indicator_tags_pkey', 'PRIMARY KEY (tenant_id, indicator_id, tag_id)'],
  [
    'indicator_hits',
    'indicator_hits_pkey',
    'PRIMARY KEY (tenant_id, indicator_id, principal_type, principal_id)',
  ],
  ['tags', 'tags_pkey', 'PRIMARY KEY (tenant_id, id)'],
  ['feeds', 'feeds_pkey', 'PRIMARY KEY (tenant_id, supplier_id)'],
  ['feed_runs', 'feed_runs_pkey', 'PRIMARY KEY (tenant_id, id)'],
  ['siem_integrations', 'siem_integrations_pkey', 'PRIMARY KEY (tenant_id, id)'],
  ['detections', 'detections_pkey', 'PRIMARY KEY (tenant_id, id)'],
  ['retro_values', 'retro_values_pkey', 'PRIMARY KEY (tenant_id, id)'],
  ['retro_values', 'retro_values_identity_key', 'UNIQUE (tenant_id, value, type)'],
  ['retro_keys', 'retro_keys_pkey', 'PRIMARY KEY (tenant_id, key_value, key_type, value_id)'],
  ['sharing_changes', 'sharing_changes_pkey', 'PRIMARY KEY (tenant_id, id)'],
];

/** Foreign keys inside a tenant: a row can only reference its own tenant's rows. */
const FOREIGN_KEYS: Array<[string, string, string]> = [
  [
    'users',
    'users_role_fkey',
    '(tenant_id, role) REFERENCES roles (tenant_id, name) ON UPDATE CASCADE ON DELETE RESTRICT',
  ],
  [
    'api_clients',
    'api_clients_role_fkey',
    '(tenant_id, role) REFERENCES roles (tenant_id, name) ON UPDATE CASCADE ON DELETE RESTRICT',
  ],
  [
    'api_client_tokens',
    'api_client_tokens_client_id_fkey',
    '(tenant_id, client_id) REFERENCES api_clients (tenant_id, id) ON DELETE CASCADE',
  ],
  [
    'indicators',
    'indicators_supplier_id_fkey',
    '(tenant_id, supplier_id) REFERENCES suppliers (tenant_id, id) ON DELETE CASCADE',
  ],
  [
    'indicator_tags',
    'indicator_tags_indicator_id_fkey',
    '(tenant_id, indicator_id) REFERENCES indicators (tenant_id, id) ON DELETE CASCADE',
  ],
  [
    'indicator_tags',
    'indicator_tags_tag_id_fkey',
    '(tenant_id, tag_id) REFERENCES tags (tenant_id, id) ON DELETE CASCADE',
  ],
  [
    'indicator_hits',
    'indicator_hits_indicator_id_fkey',
    '(tenant_id, indicator_id) REFERENCES indicators (tenant_id, id) ON DELETE CASCADE',
  ],
  [
    'feeds',
    'feeds_supplier_id_fkey',
    '(tenant_id, supplier_id) REFERENCES suppliers (tenant_id, id) ON DELETE CASCADE',
  ],
  [
    'feed_runs',
    'feed_runs_supplier_id_fkey',
    '(tenant_id, supplier_id) REFERENCES suppliers (tenant_id, id) ON DELETE CASCADE',
  ],
  [
    'retro_keys',
    'retro_keys_value_id_fkey',
    '(tenant_id, value_id) REFERENCES retro_values (tenant_id, id) ON DELETE CASCADE',
  ],
];

/** Secondary indexes, rebuilt with `tenant_id` first (same names). */
const INDEXES: Array<[string, string]> = [
  ['api_client_tokens_client_idx', 'api_client_tokens (tenant_id, client_id)'],
  ['api_client_tokens_expiry_idx', 'api_client_tokens (tenant_id, expires_at)'],
  ['api_clients_client_id_key', 'UNIQUE:api_clients (tenant_id, client_id)'],
  ['api_clients_role_idx', 'api_clients (tenant_id, role)'],
  ['audit_log_action_idx', 'audit_log (tenant_id, action, sequence DESC)'],
  ['audit_log_actor_idx', 'audit_log (tenant_id, actor_name, sequence DESC)'],
  ['audit_log_entity_type_idx', 'audit_log (tenant_id, entity_type, sequence DESC)'],
  ['audit_log_outcome_idx', 'audit_log (tenant_id, outcome, sequence DESC)'],
  ['audit_log_timestamp_idx', 'audit_log (tenant_id, "timestamp" DESC, sequence DESC)'],
  ['detections_at_idx', 'detections (tenant_id, at, id)'],
  ['detections_supplier_idx', 'detections (tenant_id, supplier, at, id)'],
  ['detections_value_idx', 'detections (tenant_id, value, at, id)'],
  ['feed_runs_supplier_idx', 'feed_runs (tenant_id, supplier_id, id DESC)'],
  ['feeds_due_idx', 'feeds (tenant_id, next_run_at)'],
  ['indicator_tags_tag_idx', 'indicator_tags (tenant_id, tag_id, indicator_id)'],
  [
    'indicator_tombstones_added_idx',
    'indicator_tombstones (tenant_id, supplier_id, deleted_at, id)',
  ],
  [
    'indicators_cidr_prefix_idx',
    "indicators (tenant_id, family(network::inet), prefix_len) WHERE type = 'cidr'",
  ],
  [
    'indicators_expiry_idx',
    'indicators (tenant_id, supplier_id, effective_expires_at) WHERE effective_expires_at IS NOT NULL',
  ],
  ['indicators_network_idx', 'indicators (tenant_id, network) WHERE network IS NOT NULL'],
  ['indicators_supplier_id_idx', 'indicators (tenant_id, supplier_id, id)'],
  ['indicators_updated_idx', 'indicators (tenant_id, supplier_id, updated_at, id)'],
  ['retro_keys_value_idx', 'retro_keys (tenant_id, value_id)'],
  ['retro_values_addr_idx', 'retro_values (tenant_id, addr) WHERE addr IS NOT NULL'],
  ['retro_values_searched_idx', 'retro_values (tenant_id, searched_at)'],
  ['siem_integrations_name_key', 'UNIQUE:siem_integrations (tenant_id, name)'],
  ['suppliers_name_key', 'UNIQUE:suppliers (tenant_id, lower(name))'],
  ['tags_name_key', 'UNIQUE:tags (tenant_id, name)'],
  ['users_role_idx', 'users (tenant_id, role)'],
  ['users_username_key', 'UNIQUE:users (tenant_id, username)'],
];

export class Tenants1765353600000 implements MigrationInterface {
  name = 'Tenants1765353600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        display_name text NOT NULL DEFAULT '',
        parent_id uuid REFERENCES tenants (id) ON DELETE RESTRICT,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleting')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((parent_id IS NULL) = (id = '${DEFAULT_TENANT_ID}'))
      )`);
    await q.query(`CREATE UNIQUE INDEX tenants_name_key ON tenants (name)`);
    await q.query(`CREATE INDEX tenants_parent_idx ON tenants (parent_id)`);
    await q.query(
      `INSERT INTO tenants (id, name, display_name) VALUES ('${DEFAULT_TENANT_ID}', 'default', 'Default')`,
    );

    // The tenant a transaction set; none set is an error, never "all rows" or "no rows".
    await q.query(`
      CREATE FUNCTION indicium_tenant() RETURNS uuid LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
      DECLARE t text := current_setting('indicium.tenant', true);
      BEGIN
        IF t IS NULL OR t = '' THEN
          RAISE EXCEPTION 'no tenant is set for this transaction' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN t::uuid;
      END $$`);

    for (const [table, fk] of OLD_FOREIGN_KEYS)
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${fk}`);
    for (const table of OWNED) {
      await q.query(
        `ALTER TABLE ${table} ADD COLUMN tenant_id uuid NOT NULL DEFAULT '${DEFAULT_TENANT_ID}'`,
      );
      await q.query(`ALTER TABLE ${table} ALTER COLUMN tenant_id SET DEFAULT indicium_tenant()`);
    }
    for (const [table, name, key] of KEYS)
      await q.query(`ALTER TABLE ${table} DROP CONSTRAINT ${name}, ADD CONSTRAINT ${name} ${key}`);
    for (const [table, name, key] of FOREIGN_KEYS)
      await q.query(`ALTER TABLE ${table} ADD CONSTRAINT ${name} FOREIGN KEY ${key}`);
    for (const table of ROOTS)
      await q.query(
        `ALTER TABLE ${table} ADD CONSTRAINT ${table}_tenant_fkey
           FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE RESTRICT`,
      );
    for (const [name, definition] of INDEXES) {
      const unique = definition.startsWith('UNIQUE:');
      await q.query(`DROP INDEX ${name}`);
      await q.query(
        `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${name} ON ${definition.replace('UNIQUE:', '')}`,
      );
    }

    // What a parent's principal did in a descendant names the actor's home tenant.
    await q.query(`ALTER TABLE audit_log ADD COLUMN actor_tenant text`);

    // Tombstones carry the tenant of the rows they remember.
    await q.query(`
      CREATE OR REPLACE FUNCTION indicium_record_tombstones() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO indicator_tombstones (tenant_id, id, supplier_id, type, value, created_at)
        SELECT o.tenant_id, o.id, o.supplier_id, o.type, o.value, o.created_at
          FROM deleted_indicators o
         WHERE EXISTS (SELECT 1 FROM suppliers s
                        WHERE s.tenant_id = o.tenant_id AND s.id = o.supplier_id);
        RETURN NULL;
      END $$`);
    // The audit log stays append-only, except while its tenant is being offboarded.
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND EXISTS (
             SELECT 1 FROM tenants WHERE id = OLD.tenant_id AND status = 'deleting') THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION '% is append-only: % rejected', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_log_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('audit_log_appended', NEW.tenant_id::text || ':' || NEW.sequence::text);
        RETURN NULL;
      END $$`);

    // The search key feed carries each change's scope (the tenant its keys hash in); rows from
    // before are unscoped: pruned, so every index rebuilds from the tables.
    await q.query(`
      UPDATE search_key_feed_state
         SET pruned_through = greatest(pruned_through, (SELECT coalesce(max(seq), 0) FROM search_key_changes))`);
    await q.query(`DELETE FROM search_key_changes`);
    await q.query(`ALTER TABLE search_key_changes ADD COLUMN scope uuid NOT NULL`);

    // Names that authenticate platform-wide, with the tenant they belong to.
    await q.query(`
      CREATE TABLE principal_names (
        kind text NOT NULL CHECK (kind IN ('user', 'client', 'token')),
        name text NOT NULL,
        home_tenant uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        PRIMARY KEY (kind, name)
      )`);
    await q.query(`CREATE INDEX principal_names_tenant_idx ON principal_names (home_tenant)`);
    await q.query(`
      CREATE FUNCTION indicium_principal_name() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        v_kind text := TG_ARGV[0];
        v_old text;
        v_new text;
      BEGIN
        IF TG_OP <> 'INSERT' THEN v_old := to_jsonb(OLD) ->> TG_ARGV[1]; END IF;
        IF TG_OP <> 'DELETE' THEN v_new := to_jsonb(NEW) ->> TG_ARGV[1]; END IF;
        IF v_old IS NOT DISTINCT FROM v_new THEN RETURN NULL; END IF;
        IF v_old IS NOT NULL THEN
          DELETE FROM principal_names WHERE kind = v_kind AND name = v_old;
        END IF;
        IF v_new IS NOT NULL THEN
          INSERT INTO principal_names (kind, name, home_tenant) VALUES (v_kind, v_new, NEW.tenant_id);
        END IF;
        RETURN NULL;
      END $$`);
    for (const [table, kind, column] of [
      ['users', 'user', 'username'],
      ['api_clients', 'client', 'client_id'],
      ['api_client_tokens', 'token', 'token_hash'],
    ]) {
      await q.query(
        `INSERT INTO principal_names (kind, name, home_tenant)
         SELECT '${kind}', ${column}, tenant_id FROM ${table}`,
      );
      await q.query(
        `CREATE TRIGGER ${table}_principal_name
           AFTER INSERT OR DELETE OR UPDATE OF ${column} ON ${table}
           FOR EACH ROW EXECUTE FUNCTION indicium_principal_name('${kind}', '${column}')`,
      );
    }

    // Administrator holds every privilege, the new one included.
    await q.query(
      `UPDATE roles SET privileges = array_append(privileges, 'tenants.manage')
        WHERE name = 'Administrator' AND built_in AND NOT 'tenants.manage' = ANY (privileges)`,
    );

    for (const table of OWNED) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(
        `CREATE POLICY tenant_isolation ON ${table}
           USING (tenant_id = indicium_tenant()) WITH CHECK (tenant_id = indicium_tenant())`,
      );
    }

    // The role the application's statements run as: it owns nothing and cannot bypass RLS.
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
          CREATE ROLE ${APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
        END IF;
      END $$`);
    await q.query(`DO $$ BEGIN
        IF NOT pg_has_role(current_user, '${APP_ROLE}', 'MEMBER') THEN
          EXECUTE format('GRANT ${APP_ROLE} TO %I', current_user);
        END IF;
      END $$`);
    // TAXII's publication horizon reads other sessions' open transactions (pg_stat_activity):
    // the application role must see them whoever writes (docs in src/sharing/taxii).
    await q.query(`DO $$ BEGIN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
          ALTER ROLE ${APP_ROLE} INHERIT;
          GRANT pg_read_all_stats TO ${APP_ROLE};
        END IF;
      END $$`);
    await q.query(`GRANT USAGE ON SCHEMA public TO ${APP_ROLE}`);
    await q.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${APP_ROLE}`,
    );
    await q.query(`REVOKE ALL ON schema_migrations FROM ${APP_ROLE}`);
    await q.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${APP_ROLE}`);
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public
         GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${APP_ROLE}`,
    );
    await q.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${APP_ROLE}`,
    );
  }

  /**
   * Not reversible in place: a schema without tenants cannot hold the other tenants' rows.
   * Restore the backup taken before upgrading instead.
   */
  down(): Promise<void> {
    return Promise.reject(
      new Error('Tenants1765353600000 cannot be undone: restore the pre-upgrade backup'),
    );
  }
}
